"""B3: the HR export. Completion records to CSV (and XLSX) by `flask reports export`, each a
separate process timed from launch to exit, its peak memory its own ru_maxrss (taken by a small
launcher, bench.m_growth_extra.run_own), against the database's own tools exporting the same
rows: the sqlite3 command-line tool with -csv, and psql running COPY (…) TO STDOUT WITH (FORMAT
csv, HEADER). Both run the SELECT of records.statement (every join, the status CASE) with its
values inlined; the export runs the same statement, its cells formatted in SQL
(records.csv_chunks: COPY on PostgreSQL; on SQLite the query writes whole lines, each class's,
unit's and person's cells once in materialised CTEs, and Python joins the lines).

Each backend gets a dedicated database (B4's size S has 200,000 enrolments): `flask bench seed
--size S --enrolments N --classes N/400 --attendance 0 --attempts 0`, i.e. S's people and units,
N enrolments (400 a class, as in S), their completions and certificates, and no attendance or
attempts, which an export does not read. N is 1,000,000 (BENCH_B3_ENROLMENTS changes it).
SQLite: a file in a temporary folder. PostgreSQL: BENCH_PG_URL, a database the bench may empty
(its public schema is dropped before and after); without it, or without psql, that part is
skipped with a line saying so. BENCH_B3_XLSX=0 skips the XLSX export (on SQLite, about 4 minutes
for a million rows); BENCH_KEEP=1 keeps the files.
"""

import os
import shutil
import tempfile
import textwrap
import zipfile
from pathlib import Path

from bench.seed import flask_command, run_measured, seed_database

ENROLMENTS = int(os.environ.get("BENCH_B3_ENROLMENTS", "1000000"))
PG_URL = os.environ.get("BENCH_PG_URL", "").strip()
XLSX = os.environ.get("BENCH_B3_XLSX", "1").strip() not in ("", "0")
CSV_RATIO = 2.0
CSV_MIB = 120
XLSX_MIB = 250


def _select_sql(env: dict[str, str]) -> tuple[str, int]:
    """The records statement of `flask reports export` (no filter, no scope), with its values
    inlined for the database's own tool, and the number of enrolments."""
    from sqlalchemy import func, select

    from learnhub import create_app, db
    from learnhub.classes.models import Enrolment
    from learnhub.reports import records

    os.environ.update(env)
    app = create_app()
    with app.app_context():
        stmt = records.statement(records.Filters(), None)
        sql = str(
            stmt.compile(
                dialect=db.session.get_bind().dialect, compile_kwargs={"literal_binds": True}
            )
        )
        total = db.session.scalar(select(func.count()).select_from(Enrolment))
        db.session.remove()
    app.extensions["learnhub.engine"].dispose()
    # The psycopg dialect doubles every % for its placeholders; there are none left.
    return sql.replace("%%", "%") if "postgresql" in env["LEARNHUB_DATABASE_URL"] else sql, total


def _lines(path: Path) -> int:
    count = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def sheet_rows(path: Path, name: str) -> int:
    """<row> elements of the worksheet *name* of the book *path*, streamed out of the zip (never
    loaded whole)."""
    count, tail = 0, b""
    with zipfile.ZipFile(path) as book, book.open(name) as sheet:
        while chunk := sheet.read(1 << 20):
            data = tail + chunk
            count += data.count(b"<row ") + data.count(b"<row>")
            tail = data[-5:]
            count -= tail.count(b"<row ") + tail.count(b"<row>")
        count += tail.count(b"<row ") + tail.count(b"<row>")
    return count


def _xlsx_rows(path: Path) -> int:
    """<row> elements of the first sheet."""
    with zipfile.ZipFile(path) as book:
        name = next(n for n in book.namelist() if n.startswith("xl/worksheets/"))
    return sheet_rows(path, name)


def _env(tmp: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": "bench-b3-secret",
        "LEARNHUB_STORAGE_DIR": str(tmp / "storage"),
        "LEARNHUB_DATABASE_URL": url,
    }


def _seed(env: dict[str, str], url: str, label: str) -> dict:
    print(f"  B3 {label}: flask bench seed ({ENROLMENTS:,} enrolments) …", flush=True)
    return seed_database(
        env,
        url,
        "--size",
        "S",
        "--enrolments",
        str(ENROLMENTS),
        "--classes",
        str(max(ENROLMENTS // 400, 1)),
        "--attendance",
        "0",
        "--attempts",
        "0",
    )


def _exports(env: dict[str, str], tmp: Path, label: str, formats: tuple[str, ...]) -> dict:
    """`flask reports export` in each format, each measured on its own; the files' rows."""
    from bench.m_growth_extra import run_own

    runs, rows, files = {}, {}, {}
    for fmt in formats:
        print(f"  B3 {label}: flask reports export --format {fmt} …", flush=True)
        target = tmp / f"export.{fmt}"
        run = run_own(
            flask_command("reports", "export", "--format", fmt, "--output", str(target)), env
        )
        if run.returncode != 0:
            raise RuntimeError(f"export {fmt} failed:\n{run.output[-3000:]}")
        runs[fmt] = vars(run)
        rows[fmt] = (_lines(target) if fmt == "csv" else _xlsx_rows(target)) - 1
        files[fmt] = target.stat().st_size
    return {"runs": runs, "rows": rows, "files": files}


def _sqlite(tmp: Path) -> dict:
    from bench.m_growth_extra import run_own

    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        raise RuntimeError("the sqlite3 command-line tool is missing: apt-get install -y sqlite3")
    db_path = tmp / "b3.sqlite"
    url = f"sqlite:///{db_path}"
    env = _env(tmp, url)
    seeded = _seed(env, url, "SQLite")
    sql, total = _select_sql(env)
    version = run_measured([sqlite3, "--version"], env).output.split()[0]
    print("  B3 SQLite: sqlite3 -csv (baseline) …", flush=True)
    base = tmp / "sqlite3.csv"
    with base.open("wb") as out:
        baseline = run_own([sqlite3, "-csv", "-header", str(db_path), sql], env, out)
    if baseline.returncode != 0:
        raise RuntimeError(f"sqlite3 failed:\n{baseline.output[-3000:]}")
    startup = run_own(flask_command("reports", "export", "--help"), env)
    done = _exports(env, tmp, "SQLite", ("csv", "xlsx") if XLSX else ("csv",))
    return {
        "tool": f"sqlite3 `-csv -header` (SQLite {version})",
        "seeded": seeded,
        "enrolments": total,
        "baseline": vars(baseline),
        "startup": vars(startup),
        **done,
        "rows": {"tool": _lines(base) - 1, **done["rows"]},
        "files": {"tool": base.stat().st_size, **done["files"]},
    }


def _postgresql(tmp: Path) -> dict:
    from bench.b4_reports import _reset_pg
    from bench.m_growth_extra import _plain, run_own

    psql = shutil.which("psql")
    env = _env(tmp, PG_URL)
    _reset_pg(PG_URL)
    try:
        seeded = _seed(env, PG_URL, "PostgreSQL")
        sql, total = _select_sql(env)
        version = run_measured([psql, "--version"], env).output.split()[2]
        print("  B3 PostgreSQL: psql COPY (baseline) …", flush=True)
        base = tmp / "psql.csv"
        copy = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
        argv = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", _plain(PG_URL), "-c", copy]
        with base.open("wb") as out:
            baseline = run_own(argv, env, out)
        if baseline.returncode != 0:
            raise RuntimeError(f"psql COPY failed:\n{baseline.output[-3000:]}")
        startup = run_own(flask_command("reports", "export", "--help"), env)
        done = _exports(env, tmp, "PostgreSQL", ("csv",))
    finally:
        if not os.environ.get("BENCH_KEEP"):
            _reset_pg(PG_URL)
    return {
        "tool": f"psql `COPY (…) TO STDOUT WITH (FORMAT csv, HEADER)` (psql {version})",
        "seeded": seeded,
        "enrolments": total,
        "baseline": vars(baseline),
        "startup": vars(startup),
        **done,
        "rows": {"tool": _lines(base) - 1, **done["rows"]},
        "files": {"tool": base.stat().st_size, **done["files"]},
    }


def _pg_skipped() -> str | None:
    """Why the PostgreSQL part does not run (None: it does)."""
    if not PG_URL:
        return "BENCH_PG_URL is not set"
    if shutil.which("psql") is None:
        return "psql is not installed (apt-get install -y postgresql-client)"
    return None


def run() -> dict:
    load = [os.getloadavg()[0]]
    backends: dict[str, dict] = {}
    skipped = _pg_skipped()
    for name, measure in (("sqlite", _sqlite), ("postgresql", _postgresql)):
        if name == "postgresql" and skipped:
            print(f"  B3 PostgreSQL: skipped ({skipped}).", flush=True)
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f"learnhub-b3-{name}-"))
        try:
            backends[name] = measure(tmp)
        finally:
            if not os.environ.get("BENCH_KEEP"):
                shutil.rmtree(tmp, ignore_errors=True)
        load.append(os.getloadavg()[0])
    return {"backends": backends, "pg_skipped": skipped, "load": load}


def correct(r: dict) -> bool:
    """Every file holds every record: the tool's rows and each export's are the enrolments."""
    return all(
        b["enrolments"] > 0 and all(n == b["enrolments"] for n in b["rows"].values())
        for b in r["backends"].values()
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _mib(size: int) -> str:
    return f"{size / 1048576:.0f} MiB"


def _rows(b: dict) -> list[tuple[str, str, str, str]]:
    base, csv = b["baseline"], b["runs"]["csv"]
    ratio = csv["seconds"] / base["seconds"]
    out = [
        (
            f"{b['tool']}, the same rows (baseline)",
            f"{base['seconds']:.1f} s, peak {base['peak_mib']:.0f} MiB, "
            f"{b['rows']['tool']:,} rows, {_mib(b['files']['tool'])}",
            "baseline",
            "",
        ),
        (
            "`flask reports export --format csv`: time",
            f"{csv['seconds']:.1f} s (**{ratio:.1f}×** the tool; CPU {csv['cpu_seconds']:.1f} s; "
            f"start-up {b['startup']['seconds']:.1f} s), {b['rows']['csv']:,} rows, "
            f"{_mib(b['files']['csv'])}",
            f"≤ {CSV_RATIO:.0f}×",
            _verdict(ratio <= CSV_RATIO),
        ),
        (
            "`flask reports export --format csv`: peak memory",
            f"{csv['peak_mib']:.0f} MiB",
            f"< {CSV_MIB} MiB",
            _verdict(csv["peak_mib"] < CSV_MIB),
        ),
    ]
    if "xlsx" in b["runs"]:
        xlsx = b["runs"]["xlsx"]
        out.append(
            (
                "`flask reports export --format xlsx` (openpyxl write-only)",
                f"{xlsx['seconds']:.1f} s ({xlsx['seconds'] / base['seconds']:.0f}× the tool; "
                f"{b['rows']['xlsx']:,} rows, {_mib(b['files']['xlsx'])}), "
                f"peak **{xlsx['peak_mib']:.0f} MiB**",
                f"streamed, < {XLSX_MIB} MiB",
                _verdict(xlsx["peak_mib"] < XLSX_MIB),
            )
        )
    out.append(
        (
            "Every record in every file",
            " = ".join(f"{k} {v:,}" for k, v in b["rows"].items())
            + f"; enrolments {b['enrolments']:,}",
            "all equal",
            _verdict(b["enrolments"] > 0 and all(n == b["enrolments"] for n in b["rows"].values())),
        )
    )
    return out


def _seeded(b: dict) -> str:
    s = b["seeded"]
    return (
        f"`flask bench seed {s['options']}` ({s['total']:,} rows in {s['seconds']:.0f} s, "
        f"peak {s['peak_mib']:.0f} MiB): {b['enrolments']:,} enrolments of "
        f"{s['rows'].get('users', 0):,} people in {s['rows'].get('classes', 0):,} classes, "
        f"{s['rows'].get('completions', 0):,} completions, "
        f"{s['rows'].get('certificates', 0):,} certificates"
    )


def section(r: dict) -> str:
    intro = textwrap.fill(
        f"Every completion record of a dedicated database per backend, exported by `flask "
        f"reports export` (no filter, no scope) and by the database's own tool running the "
        f"query of records.statement with its values inlined. The export writes the same rows "
        f"with its cells formatted in SQL (dates dd/mm/yyyy, the formula guard, Vietnamese "
        f"status, numbers), the BOM and header from Python: on PostgreSQL the server writes "
        f"the rows (COPY … TO STDOUT through psycopg's cursor.copy(), rows re-ended with CRLF), "
        f"on SQLite the query writes each whole line (CSV quoting in SQL; each class's, unit's "
        f"and person's cells written once, in materialised CTEs) and Python only joins the "
        f"lines, as SQLite's UTF-8 bytes (never decoded to text), 2,000 a batch; it does not count the records first. Each command is a "
        f"separate process timed from launch to "
        f"exit (Python start-up and the app included), its peak memory its own ru_maxrss. "
        f"Load average: {', '.join(f'{x:.1f}' for x in r['load'])}.",
        100,
        break_on_hyphens=False,
    )
    parts = [f"## B3: HR export\n\n{intro}\n"]
    titles = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    for name, b in r["backends"].items():
        table = "\n".join(f"| {a} | {b_} | {c} | {d} |" for a, b_, c, d in _rows(b))
        parts.append(
            f"### {titles[name]}\n\n{textwrap.fill(_seeded(b) + '.', 100)}\n\n"
            f"| Measure | Figure | Target | |\n|---|---|---|---|\n{table}\n"
        )
    if r["pg_skipped"]:
        parts.append(f"### PostgreSQL\n\nSkipped: {r['pg_skipped']}.\n")
    parts.append(ANALYSIS)
    return "\n".join(parts)


ANALYSIS = """### What the figures say, and the next steps

- **SQLite.** The export's time includes Python's start-up and the app's creation (the start-up
  figure above), which the tool does not pay; what remains is the query writing whole lines and
  Python joining them. The lines are read as SQLite's own UTF-8 bytes (the connection's
  text_factory, for the export only): decoding each line to a str and encoding the batch back
  cost about a fifth of what followed the start-up (200,000 records: 3.8 s against 4.4 s from
  launch to exit, alternated three times). Part of the start-up is the environment: with PYTHONDONTWRITEBYTECODE=1
  and no compiled files in the checkout, every command compiles the app's modules again (about
  0.25 s of CPU; a deployed app has its .pyc). The CLI no longer imports Alembic for commands
  other than `flask db`.
- **PostgreSQL.** Most of the server's time used to be the module's title read from the
  version's JSON (a `json` column, parsed for every record, three times). The titles are now
  guarded once in Python and joined as a VALUES list; the guard tests ascii() of the first
  character; dates are cast to text under a DateStyle set for the COPY only; JIT is off for it
  (each parallel worker compiled its own). Per-class or per-person cells in materialised CTEs
  were measured and dropped: a CTE scan is not parallel-safe, and the serial plan was slower
  than the parallel one formatting every record. What remains beyond the tool is Python's
  start-up and psycopg handing the COPY over one row at a time.
"""
