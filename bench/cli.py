"""`flask bench …`: benchmark helpers, registered by learnhub.create_app only when this bench
package is importable (a development checkout), and refused in production."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select


@click.group("bench")
def bench() -> None:
    """Benchmark helpers (development only)."""


@bench.command("seed")
@click.option(
    "--size",
    "size_name",
    type=click.Choice(["S", "M"], case_sensitive=False),
    default="S",
    show_default=True,
    help="S: a province (20,000 users, 500 classes, 200,000 enrolments, 2,000,000 attendance "
    "records, 1,000,000 attempts). M: ten times S, meant for PostgreSQL.",
)
@click.option("--users", type=click.IntRange(min=0), help="Override the size's users.")
@click.option("--classes", type=click.IntRange(min=1), help="Override the size's classes.")
@click.option("--enrolments", type=click.IntRange(min=0), help="Override the size's enrolments.")
@click.option(
    "--attendance", type=click.IntRange(min=0), help="Override the attendance records (0: none)."
)
@click.option("--attempts", type=click.IntRange(min=0), help="Override the attempts (0: none).")
@click.option("--seed", "seed_value", type=int, help="Random seed (default: a fixed one).")
@click.option(
    "--database-url",
    help="Write into this database instead of the app's (migrated and loaded with content/ "
    "first when new).",
)
@click.option("--force", is_flag=True, help="Add the rows even if the database has users.")
@with_appcontext
def seed_command(
    size_name: str,
    users: int | None,
    classes: int | None,
    enrolments: int | None,
    attendance: int | None,
    attempts: int | None,
    seed_value: int | None,
    database_url: str | None,
    force: bool,
) -> None:
    """Fill a database with generated, deterministic data at province scale (B3, B4).

    Users over the current units of content/org-units.toml (some in former units), classes of
    the shipped modules' published versions dated 2024-2026, enrolments, attendance, graded quiz
    attempts, completions for the learners who met the rule (about 60%), lesson progress, and
    certificate rows for most completions. Not generated: attempt items (the questions and
    answers of an attempt). Certificate PDFs are NOT rendered: pdf_sha256 is a placeholder of
    64 zeros and pdf_size 0, so downloading one of them fails; the rows exist for the volume of
    the reports. Every generated account has the password "bench seed passphrase"; staff sign
    in as bench-admin, bench-hr, bench-hr-ubnd, bench-hr-xa and bench-gv-01..20.

    Rows are written with Core executemany INSERTs of 10,000 rows; the rate is printed at the
    end. Refuses to run on a database that already has users unless --force is given.
    """
    from alembic import command

    from bench import seed
    from learnhub import db
    from learnhub.accounts.models import User
    from learnhub.audit.services import SYSTEM
    from learnhub.catalog.models import Module
    from learnhub.cli import alembic_config
    from learnhub.content.sync import sync_content

    app = current_app
    if app.config["ENV"] == "production":
        raise click.ClickException("generated data is for development; not in production")
    storage = Path(app.config["STORAGE_DIR"])
    if database_url:
        url = database_url
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            storage = path.parent / "storage"
        engine = db.make_engine(url)
        db.session.remove()
        db.session.configure(bind=engine)
        app.extensions["learnhub.engine"] = engine
        app.config["DATABASE_URL"] = url
    command.upgrade(alembic_config(), "head")
    if db.session.scalar(select(func.count()).select_from(Module)) == 0:
        for line in sync_content(SYSTEM, Path(app.config["CONTENT_DIR"]), storage):
            click.echo(line, err=True)
        db.session.commit()
    existing = db.session.scalar(select(func.count()).select_from(User)) or 0
    if existing and not force:
        raise click.ClickException(
            f"the database already has {existing} users: use an empty database, or --force "
            "to add the generated rows anyway"
        )
    size = seed.scaled(
        seed.SIZES[size_name.upper()],
        users=users,
        classes=classes,
        enrolments=enrolments,
        attendance=attendance,
        attempts=attempts,
    )
    click.echo(
        f"Size {size_name.upper()}: {size.users:,} users, {size.classes:,} classes, "
        f"{size.enrolments:,} enrolments, {size.attendance:,} attendance records, "
        f"{size.attempts:,} attempts",
        err=True,
    )
    with click.progressbar(length=size.planned_rows, label="Writing rows", file=sys.stderr) as bar:
        report = seed.generate(
            size, seed=seed.SEED if seed_value is None else seed_value, on_rows=bar.update
        )
    for table, rows in report.rows.items():
        click.echo(f"{table}: {rows:,}")
    click.echo(
        f"total: {report.total:,} rows in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s)"
    )
