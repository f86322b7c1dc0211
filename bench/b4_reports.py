"""B4: reports at province scale. The unit report, the completion records page (filtered,
paginated) and a learner's dashboard on `flask bench seed --size S`, on SQLite and (with
BENCH_PG_URL) on PostgreSQL; baseline: COUNT(*) of the big table each page reads.

BENCH_PG_URL names a PostgreSQL database the bench may empty (its public schema is dropped and
made again, before and after). BENCH_B4_REQUESTS sets the requests per page (default 9; the
three-year unit report gets a third of them). BENCH_KEEP=1 keeps the SQLite database.
BENCH_B4_SEED overrides the seed options for a smoke run (default "--size S"; e.g. "--size S
--users 2000 --classes 50 --enrolments 20000 --attendance 0 --attempts 0"); RESULTS.md figures
are only those of size S. The same pages at size M (ten times the people and their records) are
the opt-in workload B4M (bench/b4m_reports.py), with size M's target.

"""

import os
import re
import shutil
import statistics
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench.load import CSRF
from bench.seed import PASSWORD, seed_database

REQUESTS = int(os.environ.get("BENCH_B4_REQUESTS", "9"))
PG_URL = os.environ.get("BENCH_PG_URL", "").strip()
SEED_OPTIONS = os.environ.get("BENCH_B4_SEED", "--size S").split()
#: A page's target at each size (shared/quality/performance.md: the unit report ≤ 300 ms at S and
#: ≤ 1 s at M).
TARGETS_MS = {"S": 300, "M": 1000}
#: Tables of at least 100,000 rows at size S: their plans are checked.
BIG_TABLES = (
    "enrolments",
    "attendance_records",
    "quiz_attempts",
    "completions",
    "certificates",
    "lesson_progress",
    # the unit report's summary (reports/summary.py): one row per roster place, per class and
    # unit, and (small, but read by every report) per month
    "report_unit_persons",
    "report_unit_figures",
    "report_unit_month_figures",
    "report_module_month_persons",
)
LEARNER = "learner"  # stands for the learner picked from the data


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    login: str
    url: str
    #: The big table the page reads; its COUNT(*) is the baseline.
    table: str
    share: float = 1.0  # of REQUESTS


PAGES = (
    Page(
        "unit",
        "Unit report, province, current reporting year (15/12/2025–14/12/2026)",
        "bench-admin",
        "/reports/units",
        "report_unit_figures",  # the year's distinct persons: kept counters
    ),
    Page(
        "unit-hr",
        "Unit report, HR officer of CM-UBND (16 units), current reporting year",
        "bench-hr-ubnd",
        "/reports/units",
        "report_unit_figures",  # the year's distinct persons: kept counters
    ),
    Page(
        "unit-3y",
        "Unit report, province, 01/01/2024–31/12/2026 (every class)",
        "bench-admin",
        "/reports/units?period=range&start=01/01/2024&end=31/12/2026",
        "users",  # the range's persons: each person's unit, read once
        1 / 3,
    ),
    Page(
        "records",
        "Completion records, HR (province): classes ending in 2025, completed; page 1",
        "bench-hr",
        "/reports/records?from=01/01/2025&to=31/12/2025&status=completed",
        "enrolments",
    ),
    Page(
        "records-next",
        "The same, page 2 (keyset: ?after= the last id of page 1)",
        "bench-hr",
        "",  # taken from page 1's "next" link
        "enrolments",
    ),
    Page(
        "records-hr",
        "Completion records, HR officer of CM-UBND: not completed; page 1",
        "bench-hr-ubnd",
        "/reports/records?status=not-completed",
        "enrolments",
    ),
    Page(
        "dashboard",
        "A learner's dashboard (has started all 4 modules)",
        LEARNER,
        "/dashboard",
        "lesson_progress",
    ),
)


def _ms(seconds: float) -> float:
    return seconds * 1000


class Recorder:
    """Every statement the engine runs, with its duration (execute only, fetch aside)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.statements: list[tuple[float, str, object]] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn, _cursor, _statement, _params, context, _many):
        if context is not None:
            context._bench_started = time.perf_counter()

    def _after(self, _conn, _cursor, statement, params, context, _many):
        started = getattr(context, "_bench_started", None) if context is not None else None
        elapsed = time.perf_counter() - started if started is not None else 0.0
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.statements.append((elapsed, statement, params))

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)


def _signed_in(app, login: str):
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"login": login, "password": PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302:
        raise RuntimeError(f"cannot sign in as {login}: HTTP {response.status_code}")
    return client


def _big_tables(statement: str) -> list[str]:
    return [t for t in BIG_TABLES if re.search(rf"\b(FROM|JOIN) {t}\b", statement)]


def _plan(conn, dialect: str, statement: str, params) -> list[str]:
    if dialect == "sqlite":
        return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
    return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, params)]


def _access(dialect: str, plan: list[str], statement: str) -> dict[str, str]:
    """How each big table of a statement is read: search (an index or key narrows it),
    index (a full scan of an index), scan (a full table scan), or keyset (a walk of enrolments
    in id order that stops after a page)."""
    found: dict[str, str] = {}
    for table in _big_tables(statement):
        kinds = []
        for line in plan:
            if dialect == "sqlite":
                match = re.search(rf"\b(SEARCH|SCAN) {table}\b(.*)", line)
                if not match:
                    continue
                if match[1] == "SEARCH":
                    kinds.append("search")
                elif "INDEX" in match[2]:
                    kinds.append("full index scan")
                elif (
                    table == "enrolments"
                    and "LIMIT" in statement
                    and not any("FOR ORDER BY" in p for p in plan)
                ):
                    kinds.append("keyset walk")
                else:
                    kinds.append("**full table scan**")
            elif re.search(rf"\bon {table}\b", line):
                if "Seq Scan" in line:
                    kinds.append("seq scan")
                elif "Index" in line or "Bitmap" in line:
                    kinds.append("index")
        found[table] = ", ".join(dict.fromkeys(kinds)) or "not read (the join is dropped)"
    return found


def _rss_kib(field: str = "VmRSS") -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(found[1]) if found else 0


def _reset_peak() -> None:
    """Make this process's peak resident memory (VmHWM) its current one (Linux ≥ 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def _shown(html: str) -> int:
    """The rows a page shows: the rows of its table bodies, or else the cards of its lists."""
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    if bodies:
        return sum(b.count("<tr") for b in bodies)
    return sum(b.count("<li") for b in re.findall(r'<ul class="cards">(.*?)</ul>', html, re.S))


def _rows_read(conn, statement: str, params) -> tuple[dict[str, int], int]:
    """PostgreSQL: the rows each table's scans of *statement* read (returned or filtered out,
    times the loops), and the rows the statement returns, from EXPLAIN (ANALYZE, FORMAT JSON);
    the statement runs once more, in a transaction the caller rolls back."""
    import json

    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: dict[str, int] = {}

    def walk(node: dict) -> None:
        table = node.get("Relation Name")
        if table and node.get("Node Type") != "Bitmap Index Scan":
            per_loop = (
                node.get("Actual Rows", 0)
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
                + node.get("Rows Removed by Join Filter", 0)
            )
            found[table] = found.get(table, 0) + round(per_loop * node.get("Actual Loops", 0))
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return found, round(plan[0]["Plan"].get("Actual Rows", 0))


def measure(
    app,
    label: str,
    pages=PAGES,
    requests: int = REQUESTS,
    *,
    analyse: bool = False,
    memory: bool = False,
) -> dict:
    """Median of *requests* GETs per page (after one warm-up), statements per page, the COUNT(*)
    baselines, and the plans of the big-table statements. With *analyse* (PostgreSQL), also the
    rows the page shows and the rows its statements read (EXPLAIN ANALYZE of one request's
    statements); with *memory* (Linux), the process's peak resident memory while serving each
    page's requests and how far it rose above the memory before them (size 0 for B4 itself)."""
    from learnhub import db

    engine = app.extensions["learnhub.engine"]
    dialect = engine.dialect.name
    with app.app_context():
        learner = db.session.scalar(
            sa.text(
                "SELECT u.username FROM users u JOIN lesson_progress p ON p.user_id = u.id "
                "GROUP BY u.id, u.username HAVING COUNT(DISTINCT p.module_id) = 4 "
                "ORDER BY u.id LIMIT 1"
            )
        )
        db.session.remove()
    clients: dict[str, object] = {}
    recorder = Recorder(engine)
    results = []
    next_url = ""
    try:
        for page in pages:
            login = learner if page.login == LEARNER else page.login
            client = clients.get(login) or clients.setdefault(login, _signed_in(app, login))
            url = page.url or next_url
            n = max(1, round(requests * page.share))
            times, counts, sql = [], [], []
            body = b""
            if memory:
                rss_before = _rss_kib()
                _reset_peak()
            for i in range(n + 1):
                recorder.statements.clear()
                started = time.perf_counter()
                response = client.get(url)
                body = response.get_data()
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}")
                if i:  # the first request warms the caches
                    times.append(elapsed)
                    counts.append(len(recorder.statements))
                    sql.append(sum(s[0] for s in recorder.statements))
            captured = list(recorder.statements)
            peak = _rss_kib("VmHWM") if memory else 0
            if page.key == "records":
                found = re.search(r'href="([^"]+)" rel="next"', body.decode())
                next_url = found[1].replace("&amp;", "&") if found else url
            with engine.connect() as conn:
                plans = []
                for elapsed, statement, params in captured:
                    if _big_tables(statement):
                        plan = _plan(conn, dialect, statement, params)
                        plans.append(
                            {
                                "ms": _ms(elapsed),
                                "sql": " ".join(statement.split()),
                                "plan": plan,
                                "access": _access(dialect, plan, statement),
                            }
                        )
                baseline = []
                count_sql = f"SELECT COUNT(*) FROM {page.table}"  # noqa: S608 (our constant)
                for _ in range(n + 1):
                    started = time.perf_counter()
                    rows = conn.exec_driver_sql(count_sql).scalar()
                    baseline.append(time.perf_counter() - started)
                baseline = baseline[1:]
                read: dict[str, int] = {}
                returned = 0
                if analyse and dialect == "postgresql":
                    for _elapsed, statement, params in captured:
                        if statement.lstrip().upper().startswith("SELECT"):
                            tables, out = _rows_read(conn, statement, params)
                            returned += out
                            for table, n_rows in tables.items():
                                read[table] = read.get(table, 0) + n_rows
                    conn.rollback()
            results.append(
                {
                    "key": page.key,
                    "title": page.title,
                    "login": login,
                    "url": url,
                    "requests": n,
                    "median_ms": _ms(statistics.median(times)),
                    "min_ms": _ms(min(times)),
                    "max_ms": _ms(max(times)),
                    "statements": statistics.median(counts),
                    "statements_range": (min(counts), max(counts)),
                    "sql_ms": _ms(statistics.median(sql)),
                    "bytes": len(body),
                    "table": page.table,
                    "table_rows": rows,
                    "baseline_ms": _ms(statistics.median(baseline)),
                    "plans": plans,
                }
            )
            if analyse:
                results[-1].update(
                    shown=_shown(body.decode()), rows_read=read, rows_returned=returned
                )
            if memory:
                results[-1].update(peak_mib=peak / 1024, rise_mib=(peak - rss_before) / 1024)
            print(
                f"  B4 {label}: {page.key}: median {results[-1]['median_ms']:.0f} ms, "
                f"{results[-1]['statements']:.0f} statements",
                flush=True,
            )
    finally:
        recorder.close()
    return {"label": label, "dialect": dialect, "pages": results}


def _counts(app) -> dict[str, int]:
    from learnhub import db

    with app.app_context():
        out = {
            t: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))  # noqa: S608
            for t in ("users", "classes", *BIG_TABLES)
        }
        db.session.remove()
    return out


def _reset_pg(url: str) -> None:
    from learnhub.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _backend(
    env: dict[str, str], url: str, label: str, seed_options: list[str], seed: bool = True
) -> dict:
    """The pages on *url*, seeded first with *seed_options* (unless *seed* is False: the
    database was seeded with them before the run)."""
    from learnhub import create_app

    seeded = None
    if seed:
        print(f"  B4 {label}: flask bench seed {' '.join(seed_options)} …", flush=True)
        seeded = seed_database(env, url, *seed_options)
    os.environ.update(env)
    os.environ["LEARNHUB_DATABASE_URL"] = url
    app = create_app()
    engine = app.extensions["learnhub.engine"]
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql(
                "SELECT sqlite_version()"
                if engine.dialect.name == "sqlite"
                else "SHOW server_version"
            ).scalar()
        result = measure(app, label)
        result.update(seeded=seeded, counts=_counts(app), version=version)
    finally:
        engine.dispose()
    return result


def run(size: str | None = None, seeded_sqlite: str = "", seeded_pg: str = "") -> dict:
    """The pages on SQLite and PostgreSQL at *size* (None: BENCH_B4_SEED, by default size S).
    *seeded_sqlite* and *seeded_pg* name databases already seeded at that size: the pages are
    measured there without seeding again, and the databases are left as they are."""
    seed_options = SEED_OPTIONS if size is None else ["--size", size]
    size = seed_options[seed_options.index("--size") + 1] if "--size" in seed_options else "S"
    tmp = Path(tempfile.mkdtemp(prefix="learnhub-b4-"))
    env = {
        **os.environ,
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": "bench-b4-secret",
        "LEARNHUB_STORAGE_DIR": str(tmp / "storage"),
    }
    sqlite_url = seeded_sqlite or f"sqlite:///{tmp / 'b4.sqlite'}"
    env["LEARNHUB_DATABASE_URL"] = sqlite_url
    backends = []
    load = [os.getloadavg()[0]]
    try:
        backends.append(_backend(env, sqlite_url, "SQLite", seed_options, not seeded_sqlite))
        load.append(os.getloadavg()[0])
        if seeded_pg:
            backends.append(_backend(env, seeded_pg, "PostgreSQL", seed_options, seed=False))
            load.append(os.getloadavg()[0])
        elif PG_URL:
            _reset_pg(PG_URL)
            try:
                backends.append(_backend(env, PG_URL, "PostgreSQL", seed_options))
            finally:
                _reset_pg(PG_URL)
            load.append(os.getloadavg()[0])
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "backends": backends,
        "requests": REQUESTS,
        "pg": bool(PG_URL or seeded_pg),
        "load": load,
        "size": size,
    }


def correct(r: dict) -> bool:
    """Every page answered 200 (measure raises otherwise) on every backend that ran."""
    return bool(r["backends"]) and all(b["pages"] for b in r["backends"])


# -- the section ---------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def _page_table(backend: dict, target_ms: int) -> str:
    lines = [
        "| Page (signed in as) | Median (min–max) | Baseline: COUNT(*) | Page ÷ baseline "
        f"| Statements (SQL time) | ≤ {_target(target_ms)} |",
        "|---|---|---|---|---|---|",
    ]
    for p in backend["pages"]:
        low, high = p["statements_range"]
        statements = f"{p['statements']:.0f}" if low == high else f"{low}–{high}"
        lines.append(
            f"| {p['title']} (`{p['login']}`) "
            f"| {p['median_ms']:.0f} ms ({p['min_ms']:.0f}–{p['max_ms']:.0f}), "
            f"{p['bytes'] / 1024:.0f} KB "
            f"| {p['table']} ({p['table_rows']:,} rows): {p['baseline_ms']:.1f} ms "
            f"| {_times(p['median_ms'] / max(p['baseline_ms'], 0.01))} "
            f"| {statements} ({p['sql_ms']:.0f} ms) "
            f"| {_verdict(p['median_ms'] <= target_ms)} |"
        )
    return "\n".join(lines)


def _access_table(backend: dict) -> str:
    lines = ["| Page | Big-table statements: how each big table is read (ms of the statement) |"]
    lines.append("|---|---|")
    for p in backend["pages"]:
        cells = []
        for plan in p["plans"]:
            if len(plan["access"]) == 1:
                access = next(iter(plan["access"].values()))
            else:
                access = "; ".join(f"{t}: {a}" for t, a in plan["access"].items())
            cells.append(f"{_what(plan['sql'])}: {access} ({plan['ms']:.0f} ms)")
        lines.append(f"| {p['key']} | {'<br>'.join(cells) or 'none'} |")
    return "\n".join(lines)


def _what(sql: str) -> str:
    """A short name for a statement: the records page's, or what a grouping counts by."""
    if sql.startswith("SELECT enrolments.id FROM"):
        return "page probe"
    if sql.startswith("SELECT enrolments.id AS id"):
        return "records page"
    found = re.search(r"FROM (\w+)", sql)
    table = found[1] if found else "?"
    grouped = re.search(r"GROUP BY (.+?)(?: ORDER BY| LIMIT|$)", sql)
    if grouped:
        columns = ", ".join(c.strip().split(".")[-1] for c in grouped[1].split(","))
        distinct = "persons" if "DISTINCT" in sql else table
        return f"{distinct} by {columns}"
    return table


def _plans_block(backend: dict, keys=("unit", "records", "records-next", "dashboard")) -> str:
    out = []
    for p in backend["pages"]:
        if p["key"] not in keys:
            continue
        for plan in p["plans"]:
            lines = plan["plan"]
            if backend["dialect"] != "sqlite":
                lines = [
                    line.strip()
                    for line in lines
                    if re.search(r"Scan|Join|Aggregate|Sort|Limit|Nested Loop", line)
                ]
            out.append(f"-- {p['key']}: {_what(plan['sql'])}, {plan['ms']:.0f} ms")
            out.extend(f"   {line}" for line in lines)
    return "```\n" + "\n".join(out) + "\n```"


def _target(ms: int) -> str:
    return f"{ms // 1000} s" if ms % 1000 == 0 else f"{ms} ms"


def _seeded(backend: dict, size: str) -> str:
    s = backend["seeded"]
    if s is None:
        return (
            f"Seeded before this run by `flask bench seed --size {size}` (BENCH_B4M_SEEDED_*): "
            "the seed's time is not part of this run"
        )
    return (
        f"`flask bench seed --size {size}` wrote {s['total']:,} rows in {s['seconds']:.0f} s "
        f"(**{s['rate']:,.0f} rows/s**, {s.get('method', 'Core executemany')} of 10,000 rows; "
        f"{s['wall']:.0f} s with "
        f"start-up, migrations and content; peak {s['peak_mib']:.0f} MiB)"
    )


def section(r: dict) -> str:
    parts = []
    size = r.get("size", "S")
    target_ms = TARGETS_MS[size]
    first = r["backends"][0]
    c = first["counts"]
    intro = (
        f"Data: `flask bench seed --size {size}` into a fresh database: {c['users']:,} users, "
        f"{c['classes']:,} classes, {c['enrolments']:,} enrolments, "
        f"{c['attendance_records']:,} attendance records, {c['quiz_attempts']:,} attempts, "
        f"{c['completions']:,} completions, {c['certificates']:,} certificates, "
        f"{c['lesson_progress']:,} lesson progress rows (bench/seed.py: deterministic, fixed "
        f"seed; no ANALYZE on SQLite, as in production; ANALYZE on PostgreSQL, as autovacuum "
        f"would). Each page is requested through the Flask test client (in-process, no "
        f"network), signed in through the login form: one warm-up request, then the median of "
        f"{r['requests']} (a third of that for the three-year report). Baseline: `SELECT "
        f"COUNT(*)` of the big table the page reads, timed as often on the same engine. "
        f"Statements: an engine `before_cursor_execute` counter per request (BEGIN/COMMIT "
        f"aside); SQL time is the time spent in execute. Load average during the run: "
        f"{', '.join(f'{x:.1f}' for x in r['load'])} (a shared 2-core machine)."
    )
    title = (
        "## B4: reports at province scale"
        if size == "S"
        else f"## B4 at size {size}: the same reports on ten times the data"
    )
    parts.append(f"{title}\n\n" + textwrap.fill(intro, 100, break_on_hyphens=False) + "\n")
    for backend in r["backends"]:
        parts.append(
            f"### {backend['label']} {backend['version']}\n\n{_seeded(backend, size)}.\n\n"
            f"{_page_table(backend, target_ms)}\n\n{_access_table(backend)}\n"
        )
    if not r["pg"]:
        parts.append("PostgreSQL: not run (set BENCH_PG_URL to a database the bench may empty).\n")
    sqlite = r["backends"][0]
    parts.append("### Query plans (SQLite)\n\n" + _plans_block(sqlite) + "\n")
    if len(r["backends"]) > 1:
        parts.append(
            "### Query plans (PostgreSQL, scan and join lines)\n\n"
            + _plans_block(r["backends"][1], keys=("unit", "records"))
            + "\n"
        )
    parts.append(_analysis(r) if size == "S" else _analysis_at_size(r, size))
    return "\n".join(parts)


def _summary(r: dict, target_ms: int) -> str:
    missed = [
        f"{b['label']} {p['key']}"
        for b in r["backends"]
        for p in b["pages"]
        if p["median_ms"] > target_ms
    ]
    kept = [
        f"{b['label']} {p['key']} {p['median_ms']:.0f} ms"
        for b in r["backends"]
        for p in b["pages"]
        if p["median_ms"] <= target_ms
    ]
    return textwrap.fill(
        f"Not met: {', '.join(missed) or 'none'}. Met: {', '.join(kept) or 'none'}.",
        100,
        break_on_hyphens=False,
    )


def _analysis_at_size(r: dict, size: str) -> str:
    """What the figures at a size other than S say: each backend's unit report, where its time
    goes and what it reads (the reasoning behind the pages is B4's analysis, at size S)."""
    target_ms = TARGETS_MS[size]
    bullets = []
    for backend in r["backends"]:
        pages = {p["key"]: p for p in backend["pages"]}
        unit = pages["unit"]
        slowest = max(unit["plans"], key=lambda p: p["ms"]) if unit["plans"] else None
        slowest_line = (
            f"; its slowest statement {slowest['ms']:.0f} ms ({_what(slowest['sql'])})"
            if slowest
            else ""
        )
        verdict = "within" if unit["median_ms"] <= target_ms else "over"
        bullets.append(
            f"**{backend['label']}: the province's unit report takes {unit['median_ms']:.0f} ms**, "
            f"{verdict} the {_target(target_ms)} of size {size}: {unit['sql_ms']:.0f} ms in the "
            f"execute calls of {unit['statements']:.0f} statements and about "
            f"{unit['median_ms'] - unit['sql_ms']:.0f} ms outside them{slowest_line}. The HR "
            f"officer's report (16 units) takes {pages['unit-hr']['median_ms']:.0f} ms, the "
            f"three-year one {pages['unit-3y']['median_ms']:.0f} ms; the records page "
            f"{pages['records']['median_ms']:.0f} ms (page 2: "
            f"{pages['records-next']['median_ms']:.0f} ms)."
        )
    bullets.append(
        "The report reads the summary rows of the period's classes (reports/summary.py), never "
        "the enrolments, attendance records, completions or certificates themselves. The "
        "additive figures of the period's whole months come summed per (unit, module, class "
        "rule) from month rows (report_unit_month_figures: a few per month, unit, module and "
        "rule), those of the days of a month the period cuts (a reporting year's two "
        "half-months) from the per-class rows; the classes per module by one probe per class. "
        "The distinct persons of a reporting or calendar year (the default period) are kept "
        "counters per unit and module (report_unit_year_persons); those of a custom range (the "
        "three-year page) are the union of its months' person sets (report_module_month_persons: "
        "one bitset over user ids per module and month, 144 for three years) counted per unit "
        "against each person's unit (one read of users), so the three-year page reads about "
        "18,000 month rows, 144 sets and the users at size M instead of sorting two million "
        "roster places (before the month rows, B4M of 2026-12-03 06:34 UTC: 7,667 ms on SQLite "
        "and 5.1 s on PostgreSQL, the reporting year 665 and 303 ms: it summed its classes' "
        "rows). \"Outside them\" is the page's rendering and Python (the sets' union "
        "and count, the users' units) and, on SQLite, the rows' fetch, where SQLite finishes a "
        "grouped statement: the execute calls' time is a lower bound of the SQL there. The "
        "reasoning behind each page is in B4's analysis, at size S."
    )
    over = [
        b
        for b in r["backends"]
        if {p["key"]: p for p in b["pages"]}["unit"]["median_ms"] > target_ms
    ]
    if over:
        unit = {p["key"]: p for p in over[0]["pages"]}["unit"]
        slow = sorted(unit["plans"], key=lambda p: p["ms"], reverse=True)[:2]
        named = " and ".join(f"{_what(p['sql'])} ({p['ms']:.0f} ms)" for p in slow)
        bullets.append(
            f"**Why it is not met, and the next step.** On {over[0]['label']} the province's "
            f"page spends {unit['sql_ms']:.0f} ms in execute calls (its slowest statements: "
            f"{named}; {unit['table']} holds {unit['table_rows']:,} rows, the period's part of "
            f"them grouped) and about "
            f"{unit['median_ms'] - unit['sql_ms']:.0f} ms outside them. Next step: profile "
            "that page at this size (cProfile around periodic.build) and move what grows with "
            "the data into the kept rows."
        )
    text = "\n".join(
        textwrap.fill(b, 100, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
        for b in bullets
    )
    return f"### Analysis\n\n{_summary(r, target_ms)}\n\n{text}\n"


def _analysis(r: dict) -> str:
    target_ms = TARGETS_MS["S"]
    sqlite = {p["key"]: p for p in r["backends"][0]["pages"]}
    pg = {p["key"]: p for p in r["backends"][1]["pages"]} if len(r["backends"]) > 1 else {}
    unit = sqlite["unit"]
    python_ms = unit["median_ms"] - unit["sql_ms"]
    slowest = max(unit["plans"], key=lambda p: p["ms"]) if unit["plans"] else None
    pg_line = ""
    if pg:
        pg_line = (
            f" On PostgreSQL the page takes {pg['unit']['median_ms']:.0f} ms (SQL "
            f"{pg['unit']['sql_ms']:.0f} ms), the three-year one "
            f"{pg['unit-3y']['median_ms']:.0f} ms."
        )
    enrolments = r["backends"][0]["counts"]["enrolments"]
    slowest_line = (
        f" The slowest statement takes {slowest['ms']:.0f} ms ({_what(slowest['sql'])})."
        if slowest
        else ""
    )
    bullets = [
        "**The unit report reads no attendance record.** Each enrolment carries its recorded "
        "periods by status (present, late, excused, absent), kept by attendance.services.record "
        "in the transaction that takes attendance, under the enrolment's lock; the report sums "
        "them with the enrolments (one row per learner and class instead of one per session: "
        "ten times fewer rows, and no join through the sessions). The period's classes are "
        "found through the index on classes (ends_on), then their enrolments, completions and "
        "certificates through their class indexes (tests/reports/test_query_plans.py checks "
        "that no big table is read whole). Before this change (B4 of 03:52 UTC) the province "
        "page took 1,998 ms on SQLite and 1,268 ms on PostgreSQL, of which the attendance "
        "grouping alone 868 and 488 ms.",
        f"**The unit report reads summary rows, not the period** (reports/summary.py): "
        f"figures per (class, person's unit) and one narrow row per roster place, recomputed "
        f"for each class a write touches by one session listener in the writing transaction "
        f"(`flask reports check-summary` compares them with the base tables), and month rows "
        f"moved by the same writes. Its statements over them: every additive figure summed per "
        f"(unit, module, class rule), the classes per "
        f"module by one probe per class, and the distinct persons: for a reporting or calendar "
        f"year (the default) from kept counters per unit and module (report_unit_year_persons, "
        f"moved by the people a write concerns), for a custom range from the union of its "
        f"months' person sets (report_module_month_persons, a bitset over user ids per module "
        f"and month) counted per unit against each person's unit (one read of users). A "
        f"period's whole months are summed from month rows (report_unit_month_figures, per "
        f"month, unit, module and class rule), only the days of a month it cuts from the "
        f"(class, unit) rows; no enrolment, completion, certificate or attendance record is "
        f"read. On SQLite the province page takes {unit['median_ms']:.0f} ms, "
        f"{unit['sql_ms']:.0f} ms in execute calls and about {python_ms:.0f} ms outside them "
        f"(rows mapped to units, the template, the request, and the rows' fetch, where SQLite "
        f"finishes a grouped statement).{slowest_line}{pg_line} Before the summary, five GROUP "
        f"BY statements each "
        f"read the period's enrolments (a third of {enrolments:,}) or its completions and "
        f"certificates.",
        "**The records page keeps its keyset walk** with the index: on SQLite (no planner "
        "statistics) an indexed period filter would make it read every record of the period's "
        "classes and sort them; records.statement compares COALESCE(ends_on, ends_on) there, "
        "which is the same value without the index, so the page still walks enrolments in id "
        "order and stops after one page.",
    ]
    by_key = [{p["key"]: p for p in b["pages"]} for b in r["backends"]]
    labels = [b["label"] for b in r["backends"]]
    records = ", ".join(
        f"{label} {pages['records']['median_ms']:.0f} ms"
        for label, pages in zip(labels, by_key, strict=True)
    )
    walk = (
        f"; PostgreSQL {pg['records']['sql_ms']:.0f} ms of SQL for page 1 against "
        f"{pg['records-next']['sql_ms']:.0f} ms for page 2, which starts from the cursor"
        if pg
        else ""
    )
    bullets.append(
        f"**The completion records page** (page 1 of the 2025, completed filter: {records}): a "
        f"keyset page reads enrolments in id order (or searches from the cursor) and finds each "
        f"completion and certificate through indexes; its statement count does not depend on "
        f"the page size. A period's walk starts at the first enrolment of the period's classes "
        f"(records.first_enrolment_id: one probe per class of the index on enrolments (class_id, "
        f"id)), not at the first enrolment ever: enrolments are made before their class ends, "
        f"so the 2025 filter no longer walks past every enrolment of 2024 (SQLite: "
        f"{sqlite['records']['sql_ms']:.0f} ms of SQL{walk}). Before this bound (B4 of 10:29 "
        f"UTC) page 1 took 349 ms of SQL on PostgreSQL, and the walk grew with the history "
        f"before the period."
    )
    if pg:
        hr = pg["records-hr"]
        bullets.append(
            f"**The HR officer's records page on PostgreSQL** ({hr['median_ms']:.0f} ms, "
            f"{hr['min_ms']:.0f}–{hr['max_ms']:.0f}) "
            f"{'is at the limit' if hr['median_ms'] > 0.8 * target_ms else 'meets it'}: for 16 "
            f"units (a sixth of the people) and the not-completed filter, PostgreSQL walks "
            f"the primary key and probes each enrolment's completion as an anti-join "
            f"({hr['sql_ms']:.0f} ms of SQL; SQLite {sqlite['records-hr']['median_ms']:.0f} ms "
            f'for the page). "No completion" is tested on the join\'s class_id: tested on '
            f"completions.id, PostgreSQL could not rewrite the outer join into an anti-join, "
            f"estimated one matching row, and hashed every enrolment and completion before "
            f"sorting (6.6 s at size M; tests/reports/test_query_plans.py)."
        )
    dashboards = ", ".join(
        f"{label} {pages['dashboard']['median_ms']:.0f} ms"
        for label, pages in zip(labels, by_key, strict=True)
    )
    bullets.append(
        f"**The dashboard** ({dashboards}): {sqlite['dashboard']['statements']:.0f} statements, "
        f"including three per started module (its version, its lessons, the lessons read): an "
        f"N+1 bounded by the number of modules, four here; every lesson-progress read is an "
        f"index search."
    )
    text = "\n".join(
        textwrap.fill(b, 100, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
        for b in bullets
    )
    return f"### Analysis\n\n{_summary(r, target_ms)}\n\n{text}\n"
