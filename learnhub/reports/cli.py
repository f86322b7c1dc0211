"""`flask reports export [--unit CODE] [--from DD/MM/YYYY] [--to DD/MM/YYYY] [--format csv|xlsx]
--output FILE`: the completion records of the HR page, with those filters, for everyone (the
command line is the system: no HR scope)."""

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from learnhub import db
from learnhub.orgunits.services import by_code as unit_by_code
from learnhub.reports import exports, records, summary


@click.group("reports")
def reports() -> None:
    """Reports for HR: completion records, the unit report's summary."""


def _date_option(_ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return records.parse_date_arg(value)
    except (ValueError, OverflowError):
        raise click.BadParameter(
            f"{value!r} is not a date in DD/MM/YYYY form", param=param
        ) from None


def _counted(rows: Iterable, bar) -> Iterator:
    for row in rows:
        yield row
        bar.update(1)


@reports.command("export")
@click.option("--unit", "unit_code", help="Unit code: its subtree and the units merged into it.")
@click.option("--from", "date_from", callback=_date_option, help="Classes ending on or after.")
@click.option("--to", "date_to", callback=_date_option, help="Classes ending on or before.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"], case_sensitive=False),
    help="File format (default: from the output's extension, else csv).",
)
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
@with_appcontext
def export_command(
    unit_code: str | None,
    date_from: date | None,
    date_to: date | None,
    fmt: str | None,
    output: str,
) -> None:
    """Export completion records (one row per person and class) as CSV or XLSX.

    The period is on the day the class ends. The rows are those of /reports/records with the
    same filters, without any HR scope.
    """
    if unit_code and unit_by_code(unit_code) is None:
        raise click.BadParameter(f"no unit with code {unit_code!r}", param_hint="'--unit'")
    if date_from and date_to and date_from > date_to:
        raise click.BadParameter("--from is after --to", param_hint="'--from'")
    fmt = (fmt or ("xlsx" if output.lower().endswith(".xlsx") else "csv")).lower()
    filters = records.Filters(unit=unit_code or "", date_from=date_from, date_to=date_to)
    stmt = records.statement(filters, None)
    path = Path(output)
    partial = path.with_name(f".{path.name}.part")
    try:
        if fmt == "csv":
            # The fast writer (COPY on PostgreSQL): no count pass and no Python per row, so
            # no progress bar; the rows are counted as they are written. A bulk export: on
            # SQLite each person's cells are written once (per_person).
            written = [0]
            with partial.open("wb") as out:
                for chunk in records.csv_chunks(stmt, written, per_person=True):
                    out.write(chunk)
            total = written[0]
        else:
            total = records.count(stmt)
            with click.progressbar(
                length=total, label=f"Exporting {total} records", file=sys.stderr
            ) as bar:
                rows = _counted(records.document_rows(stmt), bar)
                exports.xlsx_file(records.EXPORT_COLUMNS, rows, "Hồ sơ hoàn thành", str(partial))
        os.replace(partial, path)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    click.echo(f"{total} records written to {output} ({fmt}).")


@reports.command("check-summary")
@click.option("--fix", is_flag=True, help="Rebuild the summary from the base tables.")
@with_appcontext
def check_summary_command(fix: bool) -> None:
    """Compare the unit report's summary rows with a recomputation from the base tables.

    Lists the differences (the first 50) and exits with 1 when there is any; with --fix,
    rebuilds every class's rows instead and exits with 0.
    """
    conn = db.session.connection()
    found = summary.differences(conn)
    for d in found[:50]:
        click.echo(f"class {d.class_id} {d.what}: stored {d.stored!r}, computed {d.computed!r}")
    if fix:
        summary.rebuild(conn)
        db.session.commit()
        click.echo(f"{len(found)} differences; summary rebuilt.")
        return
    if found:
        click.echo(f"{len(found)} differences (run with --fix to rebuild).", err=True)
        raise SystemExit(1)
    click.echo("Summary matches the base tables.")
