"""Growth: every workload at size S and at size M (ten times the data, the national
sample) on PostgreSQL, in the same run, and how time and memory grew against the rows each page
shows (shared/quality/performance.md, "How it grows").

For each size, in turn, BENCH_PG_URL (a database the bench may empty: its public schema is dropped
and made again) is filled by `flask bench seed --size S|M` (timed, peak memory of the seeding
process); B4's pages are measured by bench.b4_reports.measure in a fresh process (so that its peak
memory is the pages' own), with the rows each page shows and the rows its statements read (EXPLAIN
ANALYZE of one request); then B1's burst runs against gunicorn on that database (the quiz, its
module and its 500 learners added on top of the data); then, on the same database, B5's pages
over HTTP, B2's bulk issue and verification, and B3's exports against psql's COPY
(bench.m_growth_extra). The schema is emptied at the end (BENCH_KEEP=1 keeps the last size's
data).

Without BENCH_PG_URL nothing is measured: the section keeps the last figures, with a note saying
so. Seeding M takes tens of minutes. BENCH_GROWTH_REQUESTS sets the requests per page (default 5,
at both sizes; the three-year report gets a third). BENCH_GROWTH_SMALL=1 is a smoke test: a tenth
of S, then S, instead of S then M.
"""

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from bench import b1_quiz_burst, b4_reports, m_growth_extra
from bench.seed import SIZES, seed_database

PG_URL = os.environ.get("BENCH_PG_URL", "").strip()
REQUESTS = int(os.environ.get("BENCH_GROWTH_REQUESTS", "5"))
SMALL = os.environ.get("BENCH_GROWTH_SMALL", "") not in ("", "0")
SECTION = Path(__file__).resolve().parent / "results" / "growth.md"
TITLE = "## Growth: S to M on PostgreSQL"
META = re.compile(r"<!-- measured: (?P<when>[^;]+); command: (?P<command>[^;]+);[^\n]*-->\n")
KEPT = re.compile(r"<!-- growth kept: (?P<when>[^;]+); (?P<command>[^>]+) -->\n")
#: Time may grow this much more than the rows shown before the verdict says it grew faster (the
#: machine is shared: two runs of one page differ by up to about half).
NOISE = 1.5
#: A rise of peak memory below this is not the page's: it ran within memory the process already
#: held (an earlier, bigger page's; the allocator reuses it).
MEMORY_FLOOR_MIB = 5.0


def _seed_options(name: str) -> list[str]:
    if not SMALL:
        return ["--size", name]
    size = SIZES["S"]
    divisor = 10 if name == "S" else 1
    return [
        "--size",
        "S",
        "--users",
        str(size.users // divisor),
        "--classes",
        str(size.classes // divisor),
        "--enrolments",
        str(size.enrolments // divisor),
        "--attendance",
        str(size.attendance // divisor),
        "--attempts",
        str(size.attempts // divisor),
    ]


def _pages(env: dict[str, str], url: str, label: str, requests: int) -> dict:
    """In a fresh process: B4's pages on *url*, with rows read and memory."""
    os.environ.update(env)
    os.environ["LEARNHUB_DATABASE_URL"] = url
    from learnhub import create_app

    app = create_app()
    engine = app.extensions["learnhub.engine"]
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            database_mib = (
                conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
                / 2**20
            )
        start_mib = b4_reports._rss_kib() / 1024
        result = b4_reports.measure(
            app, label, b4_reports.PAGES, requests, analyse=True, memory=True
        )
        result.update(
            counts=b4_reports._counts(app),
            version=version,
            database_mib=database_mib,
            start_mib=start_mib,
        )
    finally:
        engine.dispose()
    return result


def _size(env: dict[str, str], name: str) -> dict:
    print(f"  growth {name}: flask bench seed {' '.join(_seed_options(name))} …", flush=True)
    b4_reports._reset_pg(PG_URL)
    seeded = seed_database(env, PG_URL, *_seed_options(name))
    print(f"  growth {name}: {seeded['total']:,} rows in {seeded['seconds']:.0f} s", flush=True)
    load = [os.getloadavg()[0]]
    pages = _fresh(_pages, env, PG_URL, f"PostgreSQL {name}", REQUESTS)
    load.append(os.getloadavg()[0])
    print(f"  growth {name}: B1 quiz burst on PostgreSQL …", flush=True)
    burst = b1_quiz_burst.run(PG_URL)
    load.append(os.getloadavg()[0])
    print(
        f"  growth {name}: B1 save p95 {burst['save_p95'] * 1000:.0f} ms, "
        f"{burst['errors']} errors, server peak {burst['server_rss_peak_mib']:.0f} MiB",
        flush=True,
    )
    extra = m_growth_extra.measure(env, _fresh, name)
    load.extend(extra.pop("load")[1:])
    return {
        "name": name,
        "seeded": seeded,
        "pages": pages,
        "burst": burst,
        "load": load,
        **extra,
    }


def _fresh(fn, *args):
    """fn(*args) in a fresh (spawned) process: its memory and its app are its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


def _previous() -> dict:
    """The last measured section (without its metadata or an earlier note), with when and how
    it was measured."""
    if not SECTION.is_file():
        return {}
    text = SECTION.read_text(encoding="utf-8")
    if "Not measured yet" in text:
        return {}
    meta = META.match(text)
    body = text[meta.end() :] if meta else text
    kept = KEPT.search(body)
    if kept:
        when, command = kept["when"], kept["command"]
        body = body[: kept.start()] + body[kept.end() :]
        body = re.sub(r"\A(## [^\n]*\n\n)> \*\*Not measured by this run\*\*.*?\n\n", r"\1", body,
                      flags=re.S)  # fmt: skip
    elif meta:
        when, command = meta["when"], meta["command"]
    else:
        return {}
    return {"when": when, "command": command, "markdown": body}


def run() -> dict:
    if not PG_URL:
        return {"skipped": "BENCH_PG_URL is not set", "previous": _previous()}
    tmp = Path(tempfile.mkdtemp(prefix="learnhub-growth-"))
    env = {
        **os.environ,
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": "bench-growth-secret",
        "LEARNHUB_STORAGE_DIR": str(tmp / "storage"),
        "LEARNHUB_DATABASE_URL": PG_URL,
    }
    sizes = []
    try:
        for name in ("S", "M"):
            sizes.append(_size(env, name))
    finally:
        if not os.environ.get("BENCH_KEEP"):
            b4_reports._reset_pg(PG_URL)
        shutil.rmtree(tmp, ignore_errors=True)
    result = {"skipped": None, "sizes": sizes, "requests": REQUESTS, "small": SMALL}
    if os.environ.get("BENCH_GROWTH_DUMP"):  # the raw figures, to render the section again
        Path(os.environ["BENCH_GROWTH_DUMP"]).write_text(json.dumps(result, default=str))
    return result


def correct(r: dict) -> bool:
    """Every page answered (measure raises otherwise); no B1 error or lost answer at any size;
    B2, B3 and B5 correct at every size (m_growth_extra.correct)."""
    if r["skipped"]:
        return True
    return all(
        s["pages"]["pages"]
        and s["burst"]["errors"] == 0
        and s["burst"]["lost"] == 0
        and m_growth_extra.correct(s)
        for s in r["sizes"]
    )


# -- the section ---------------------------------------------------------------------------------


def _x(before: float, after: float) -> float:
    return after / before if before else float("inf")


def _f(factor: float) -> str:
    if factor == float("inf"):
        return "∞"
    return f"{factor:.2f}×" if factor < 10 else f"{factor:.0f}×"


def _fill(text: str) -> str:
    return textwrap.fill(text, 100, break_on_hyphens=False, break_long_words=False)


def _skipped(r: dict) -> str:
    previous = r["previous"]
    if not previous:
        return (
            f"{TITLE}\n\n"
            + _fill(
                "Not measured yet: BENCH_PG_URL is not set. Run `BENCH_PG_URL=postgresql://… "
                "BENCH_ONLY=growth python -m bench` with a PostgreSQL database the bench may "
                "empty (seeding size M takes tens of minutes)."
            )
            + "\n"
        )
    note = _fill(
        f"**Not measured by this run** ({r['skipped']}): the figures below are those of "
        f"{previous['when']} (`{previous['command']}`), kept as they were."
    )
    body = previous["markdown"]
    marker = f"<!-- growth kept: {previous['when']}; {previous['command']} -->\n"
    head, _sep, rest = body.partition("\n\n")
    quoted = "\n".join(f"> {line}" for line in note.splitlines())
    return f"{marker}{head}\n\n{quoted}\n\n{rest}"


def _table(page: dict, table: str) -> str:
    return f"{page['rows_read'].get(table, 0):,}"


def _read(page: dict) -> int:
    return sum(page.get("rows_read", {}).values())


def _page_verdict(s: dict, m: dict) -> tuple[bool, str]:
    shown = max(_x(max(s["shown"], 1), max(m["shown"], 1)), 1.0)
    read = _x(max(_read(s), 1), max(_read(m), 1))
    time = _x(s["median_ms"], m["median_ms"])
    rise = _x(max(s["rise_mib"], MEMORY_FLOOR_MIB), max(m["rise_mib"], MEMORY_FLOOR_MIB))
    ok = read <= NOISE * shown and time <= NOISE * shown and rise <= NOISE * shown
    if ok:
        return True, "met"
    grew = [
        f"{what} {_f(v)}"
        for what, v in (("rows read", read), ("time", time), ("memory", rise))
        if v > NOISE * shown
    ]
    return False, f"**not met** ({', '.join(grew)} against {_f(shown)} shown)"


def _rise(s: dict, m: dict) -> str:
    if max(s["rise_mib"], m["rise_mib"]) < MEMORY_FLOOR_MIB:
        return "within memory already held"
    return _f(_x(max(s["rise_mib"], MEMORY_FLOOR_MIB), max(m["rise_mib"], MEMORY_FLOOR_MIB)))


def _seed_table(sizes: list[dict]) -> str:
    lines = [
        "| Size | Rows written | Seed time (with start-up) | Rows/s | Peak memory | "
        "Database on disk |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        seeded, pages = size["seeded"], size["pages"]
        lines.append(
            f"| {size['name']} | {seeded['total']:,} | {seeded['seconds']:.0f} s "
            f"({seeded['wall']:.0f} s) | {seeded['rate']:,.0f} | {seeded['peak_mib']:.0f} MiB "
            f"| {pages['database_mib'] / 1024:.1f} GiB |"
        )
    if len(sizes) == 2:
        s, m = (size["seeded"] for size in sizes)
        lines.append(
            f"| growth | {_f(_x(s['total'], m['total']))} | {_f(_x(s['seconds'], m['seconds']))} "
            f"| {_f(_x(s['rate'], m['rate']))} | {_f(_x(s['peak_mib'], m['peak_mib']))} "
            f"| {_f(_x(sizes[0]['pages']['database_mib'], sizes[1]['pages']['database_mib']))} |"
        )
    return "\n".join(lines)


def _counts_line(size: dict) -> str:
    c = size["pages"]["counts"]
    return (
        f"{size['name']}: {c['users']:,} users, {c['classes']:,} classes, "
        f"{c['enrolments']:,} enrolments, {c['attendance_records']:,} attendance records, "
        f"{c['quiz_attempts']:,} attempts, {c['completions']:,} completions, "
        f"{c['certificates']:,} certificates, {c['lesson_progress']:,} lesson progress rows"
    )


def _baseline(page: dict) -> str:
    """The page's median over the same run's COUNT(*) of the table it reads (B4's baseline)."""
    if not page.get("baseline_ms"):
        return "n/a"
    ratio = page["median_ms"] / page["baseline_ms"]
    return f"{_f(ratio)} ({page['table']} {page['baseline_ms']:,.1f} ms)"


def _pages_table(s_size: dict, m_size: dict) -> tuple[str, list[tuple[str, bool]]]:
    lines = [
        "| Page | Median S → M (time ×) | Page ÷ its baseline (COUNT(*) of the big table, same "
        "run) S → M | Peak RSS S → M (rise above the RSS before the page, ×) "
        "| Rows shown S → M | Rows read S → M (×) | Rows returned to Python S → M | Verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    m_pages = {p["key"]: p for p in m_size["pages"]["pages"]}
    for s in s_size["pages"]["pages"]:
        m = m_pages[s["key"]]
        ok, verdict = _page_verdict(s, m)
        verdicts.append((s["key"], ok))
        lines.append(
            f"| {s['key']}: {s['title']} "
            f"| {s['median_ms']:,.0f} → {m['median_ms']:,.0f} ms "
            f"(**{_f(_x(s['median_ms'], m['median_ms']))}**) "
            f"| {_baseline(s)} → {_baseline(m)} "
            f"| {s['peak_mib']:.0f} → {m['peak_mib']:.0f} MiB (rise {max(s['rise_mib'], 0):.0f} "
            f"→ {max(m['rise_mib'], 0):.0f} MiB, {_rise(s, m)}) "
            f"| {s['shown']:,} → {m['shown']:,} "
            f"| {_read(s):,} → {_read(m):,} ({_f(_x(max(_read(s), 1), max(_read(m), 1)))}) "
            f"| {s['rows_returned']:,} → {m['rows_returned']:,} "
            f"| {verdict} |"
        )
    return "\n".join(lines), verdicts


def _read_table(s_size: dict, m_size: dict) -> str:
    lines = ["| Page | Rows read per table, S → M |", "|---|---|"]
    m_pages = {p["key"]: p for p in m_size["pages"]["pages"]}
    for s in s_size["pages"]["pages"]:
        m = m_pages[s["key"]]
        tables = sorted(
            set(s["rows_read"]) | set(m["rows_read"]),
            key=lambda t: -m["rows_read"].get(t, 0),
        )
        cells = [
            f"{t} {s['rows_read'].get(t, 0):,} → {m['rows_read'].get(t, 0):,}"
            for t in tables
            if s["rows_read"].get(t, 0) or m["rows_read"].get(t, 0)
        ][:6]
        lines.append(f"| {s['key']} | {'; '.join(cells) or 'none'} |")
    return "\n".join(lines)


def _burst_table(s: dict, m: dict) -> tuple[str, bool]:
    def ratio(r: dict, key: str) -> float:
        return r[key] / r["trivial_rps"] if r["trivial_rps"] else 0.0

    rows = [
        ("Errors / lost answers", f"{s['errors']} / {s['lost']}", f"{m['errors']} / {m['lost']}"),
        ("Attempts / graded", f"{s['attempts']} / {s['graded']}", f"{m['attempts']} / {m['graded']}"),
        ("Trivial route (baseline)", f"{s['trivial_rps']:.0f} req/s", f"{m['trivial_rps']:.0f} req/s"),
        (
            "Answer save (share of trivial)",
            f"{s['save_rps']:.0f} req/s ({ratio(s, 'save_rps'):.0%})",
            f"{m['save_rps']:.0f} req/s ({ratio(m, 'save_rps'):.0%})",
        ),
        ("Answer save p95", f"{s['save_p95'] * 1000:.0f} ms", f"{m['save_p95'] * 1000:.0f} ms"),
        (
            "Quiz page (share of trivial)",
            f"{s['quiz_page_rps']:.0f} req/s ({ratio(s, 'quiz_page_rps'):.0%})",
            f"{m['quiz_page_rps']:.0f} req/s ({ratio(m, 'quiz_page_rps'):.0%})",
        ),
        ("Burst wall time", f"{s['burst_seconds']:.1f} s", f"{m['burst_seconds']:.1f} s"),
        (
            "Server RSS, master + 4 workers: after start → peak",
            f"{s['server_rss_start_mib']:.0f} → {s['server_rss_peak_mib']:.0f} MiB",
            f"{m['server_rss_start_mib']:.0f} → {m['server_rss_peak_mib']:.0f} MiB",
        ),
        ("Largest worker RSS", f"{s['worker_rss_peak_mib']:.0f} MiB", f"{m['worker_rss_peak_mib']:.0f} MiB"),
    ]  # fmt: skip
    growth = {
        "Answer save (share of trivial)": _x(ratio(m, "save_rps"), ratio(s, "save_rps")),
        "Answer save p95": _x(s["save_p95"], m["save_p95"]),
        "Quiz page (share of trivial)": _x(ratio(m, "quiz_page_rps"), ratio(s, "quiz_page_rps")),
        "Burst wall time": _x(s["burst_seconds"], m["burst_seconds"]),
        "Server RSS, master + 4 workers: after start → peak": _x(
            s["server_rss_peak_mib"], m["server_rss_peak_mib"]
        ),
        "Largest worker RSS": _x(s["worker_rss_peak_mib"], m["worker_rss_peak_mib"]),
    }
    lines = [
        "| Measure | S | M | Growth (time per request or memory, M ÷ S) |",
        "|---|---|---|---|",
    ]
    for what, at_s, at_m in rows:
        g = growth.get(what)
        lines.append(f"| {what} | {at_s} | {at_m} | {_f(g) if g is not None else ''} |")
    ok = all(v <= NOISE for v in growth.values()) and m["errors"] == 0 and m["lost"] == 0
    return "\n".join(lines), ok


def section(r: dict) -> str:
    if r["skipped"]:
        return _skipped(r)
    sizes = r["sizes"]
    s_size, m_size = sizes
    pages = s_size["pages"]
    loads = ", ".join(f"{x:.1f}" for size in sizes for x in size["load"])
    smoke = (
        " **Smoke test (BENCH_GROWTH_SMALL=1): the sizes are a tenth of S and S, not S and M.**"
        if r["small"]
        else ""
    )
    intro = _fill(
        f"Both sizes measured in this run, one after the other, in the same PostgreSQL database "
        f"({pages['version']}; its schema emptied before each size): `flask bench seed --size "
        f"S`, then `--size M` (ten times the users, classes, enrolments, attendance records and "
        f"attempts; the same org units and modules).{smoke} B4's pages are measured as B4 does "
        f"(bench.b4_reports.measure: Flask test client, one warm-up request, then the median "
        f"of {r['requests']}; a third of that for the three-year report) in a fresh process "
        f"per size, whose peak resident memory (VmHWM, reset before each page) is the page's (a "
        f"page that needs less than an earlier page left allocated shows no rise: its memory "
        f"growth is then unknown, below that page's); "
        f"the rows a page shows are the rows of its tables (the dashboard: its module cards); "
        f"the rows it reads are summed over the scans of every SELECT of one request (EXPLAIN "
        f"ANALYZE: rows returned or filtered out, times loops). B1 is the same burst as in its "
        f"own section (500 learners, gunicorn 4 workers as deployed on 127.0.0.1), with the "
        f"quiz and its learners added on top of each size's data; its server memory is the "
        f"resident memory of gunicorn's master and workers, sampled every 0.5 s. Then, on the "
        f"same database, B5's pages, B2's bulk issue and verification and B3's exports (their "
        f"sections below). Load average (seeded, pages, burst, B5, B2, B3; S then M): {loads} "
        f"(a shared 2-core machine)."
    )
    counts = "\n".join(f"- {_counts_line(size)}" for size in sizes)
    page_table, verdicts = _pages_table(s_size, m_size)
    burst_table, burst_ok = _burst_table(s_size["burst"], m_size["burst"])
    parts = [
        f"{TITLE}\n\n{intro}\n\n{counts}\n",
        _summary(s_size, m_size, verdicts, burst_ok),
        f"### Seeding\n\n{_seed_table(sizes)}\n\n"
        + _fill(
            "Written by COPY (psycopg) on PostgreSQL, 10,000 rows per commit (before: Core "
            "executemany INSERTs, about 25,000 rows/s at S; the rows are the same); the seeding "
            "process's peak memory is its own (ru_maxrss): the generator keeps every learner's "
            "attempt numbers and lesson progress in dictionaries, which grow with the users. "
            "PostgreSQL's side (a foreign-key check per reference and four indexes per big "
            "table) takes more CPU than the Python generator."
        )
        + "\n",
        "### B4's pages at S and at M\n\n"
        + _fill(
            f"Verdict: met when the rows read, the time and the memory rise each grew at most "
            f"{NOISE}× as much as the rows shown (the margin is the noise of a shared machine); "
            f"the rows read are exact, the time and memory are measured."
        )
        + f"\n\n{page_table}\n\n{_read_table(s_size, m_size)}\n",
        f"### B1's quiz burst at S and at M\n\n{burst_table}\n\n"
        + _fill(
            f"Verdict: **{'met' if burst_ok else 'not met'}**. A burst shows the same rows at "
            f"both sizes (one quiz of 20 questions per learner), so its time and memory should "
            f"not grow: the throughputs are compared as shares of the same run's trivial route, "
            f"the p95, wall time and memory directly, each within {NOISE}×."
        )
        + "\n",
        _analysis(s_size, m_size, verdicts, burst_ok),
        m_growth_extra.b2_section(s_size, m_size),
        m_growth_extra.b3_section(s_size["b3"], m_size["b3"]),
        m_growth_extra.b5_section(s_size, m_size),
    ]
    return "\n".join(parts)


def _summary(s_size: dict, m_size: dict, verdicts: list, burst_ok: bool) -> str:
    """One line per workload: its main figure at S and at M, and the verdict at size."""
    s2, m2, s3, m3 = s_size["b2"], m_size["b2"], s_size["b3"], m_size["b3"]
    v2, v3s, v3m = (
        m_growth_extra.b2_verdicts(s2, m2),
        m_growth_extra.b3_verdicts(s3),
        m_growth_extra.b3_verdicts(m3),
    )
    met = sum(1 for _k, ok in verdicts if ok)
    unit = ({p["key"]: p for p in size["pages"]["pages"]}["unit"] for size in (s_size, m_size))

    def b1(b: dict) -> str:
        return f"save p95 {b['save_p95'] * 1000:,.0f} ms, {b['errors']} errors"

    def b2(r: dict) -> str:
        return f"{r['per_core_rate']:.1f}/s per core; verify {r['verify']['median_ms']:.1f} ms"

    def b3(r: dict) -> str:
        return (
            f"CSV {r['csv']['seconds'] / r['baseline']['seconds']:.1f}× psql, "
            f"{r['csv']['peak_mib']:.0f} MiB; XLSX {r['xlsx']['peak_mib']:.0f} MiB"
        )

    def b5(size: dict) -> str:
        quiz = max(size["b5"]["quizzes"], key=lambda q: m_growth_extra.page_total(q, "gzip"))
        return f"heaviest page {m_growth_extra.page_total(quiz, 'gzip') / 1024:.1f} KB gzipped"

    def verdict(ok: bool, what: str) -> str:
        return f"{'met' if ok else '**not met**'} ({what})"

    us, um = unit
    b3_rest = all(v[k] for v in (v3s, v3m) for k in ("csv_mib", "xlsx_mib", "rows"))
    rows = [
        ("B1 quiz burst", b1(s_size["burst"]), b1(m_size["burst"]),
         verdict(burst_ok, f"no growth within {NOISE}×")),
        ("B2 certificates", b2(s2), b2(m2),
         f"{verdict(v2['flat'], 'no slower at M')}; {verdict(v2['rate'], '≥ 8/s per core')}; "
         f"{verdict(v2['render'], 'render ≤ 1.5× minimal')}"),
        ("B3 HR export", b3(s3), b3(m3),
         f"{verdict(v3s['ratio'] and v3m['ratio'], 'CSV ≤ 2× psql')}; "
         f"{verdict(b3_rest, 'memory, every record')}"),
        ("B4 reports", f"unit report {us['median_ms']:,.0f} ms",
         f"unit report {um['median_ms']:,.0f} ms",
         verdict(met == len(verdicts), f"{met} of {len(verdicts)} pages grew no faster than "
                 f"the rows they show")),
        ("B5 page weight", b5(s_size), b5(m_size),
         verdict(m_growth_extra.b5_ok(s_size) and m_growth_extra.b5_ok(m_size), "≤ 50 KB")),
    ]  # fmt: skip
    lines = [
        "| Workload | S | M | Verdict at size |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
    ]
    return "### The five workloads at S and at M\n\n" + "\n".join(lines) + "\n"


def _records_first(rec_s: dict, rec_m: dict) -> str:
    head = (
        f"**The completion records page 1** ({rec_s['median_ms']:,.0f} → "
        f"{rec_m['median_ms']:,.0f} ms, {_f(_x(rec_s['median_ms'], rec_m['median_ms']))}; rows "
        f"read {_read(rec_s):,} → {_read(rec_m):,}) shows {rec_m['shown']} rows at both sizes"
    )
    walked = rec_m["rows_read"].get("enrolments", 0)
    if walked <= 100 * rec_m["shown"]:
        return (
            f"{head}; its keyset walk starts at the first enrolment of the period's classes "
            f"(records.first_enrolment_id), so it reads enrolments "
            f"{_table(rec_s, 'enrolments')} → {_table(rec_m, 'enrolments')}, not the history "
            f"before the period."
        )
    return (
        f"{head}, but in this run its keyset walk started at the first enrolment ever and "
        f"passed every enrolment made before the period: enrolments read "
        f"{_table(rec_s, 'enrolments')} → {_table(rec_m, 'enrolments')}, growing with the "
        f"history. Its time did not grow because PostgreSQL changed plans: at S it looked up "
        f"each walked enrolment's completions by user and filtered them by class "
        f"({_table(rec_s, 'completions')} completion rows read), at M it checks the class "
        f"first ({_table(rec_m, 'completions')}). The walk now starts at the first enrolment "
        f"of the period's classes (records.first_enrolment_id, one probe per class of the "
        f"index on enrolments (class_id, id)), merged after this run: B4's section measures it."
    )


def _sign_in_memory(burst: dict) -> str:
    if burst["worker_rss_peak_mib"] < 400:
        return (
            "Argon2id holds 64 MiB (ARGON2_MEMORY_COST) per password being checked, and at "
            "most ARGON2_CONCURRENCY (2) run at once per worker: about 128 MiB above the "
            "app's own ~100 MiB per worker, at both sizes (before that bound, 8 threads "
            "checking passwords at once took a worker to 620 MiB)."
        )
    return (
        "Argon2id with a 64 MiB memory cost (ARGON2_MEMORY_COST), up to one per thread at "
        "once per worker (8 threads), about 512 MiB above the app's own ~100 MiB per worker, "
        "at both sizes."
    )


def _analysis(s_size: dict, m_size: dict, verdicts: list, burst_ok: bool) -> str:
    s_pages = {p["key"]: p for p in s_size["pages"]["pages"]}
    m_pages = {p["key"]: p for p in m_size["pages"]["pages"]}
    met = [k for k, ok in verdicts if ok]
    missed = [k for k, ok in verdicts if not ok]

    def att(page: dict) -> int:
        return page["rows_read"].get("attendance_records", 0)

    unit_s, unit_m = s_pages["unit"], m_pages["unit"]
    bs, bm = s_size["burst"], m_size["burst"]
    rec_s, rec_m = s_pages["records"], m_pages["records"]
    bullets = [
        f"Met: {', '.join(met) or 'none'}; not met: {', '.join(missed) or 'none'}; B1: "
        f"{'met' if burst_ok else 'not met'}.",
        *(
            _unit_old(unit_s, unit_m, s_pages, m_pages)
            if att(unit_m)
            else _unit_new(unit_s, unit_m, s_pages, m_pages)
        ),
        _records_first(rec_s, rec_m),
        f"**Page 2** (records-next, from its cursor: "
        f"{s_pages['records-next']['median_ms']:,.0f} → "
        f"{m_pages['records-next']['median_ms']:,.0f} ms) reads a few thousand rows at most "
        f"({_read(s_pages['records-next']):,} → {_read(m_pages['records-next']):,}; "
        f"enrolments {_table(s_pages['records-next'], 'enrolments')} → "
        f"{_table(m_pages['records-next'], 'enrolments')}): at M PostgreSQL walks the "
        f"primary key with parallel workers (Parallel Index Scan under a Gather), which read "
        f"past the page before the LIMIT stops them and cost their start-up; the time is "
        f"still under 100 ms, but the extra rows are the planner's, not the page's.",
        f"**The HR officer's pages** (16 units): unit-hr "
        f"{s_pages['unit-hr']['median_ms']:,.0f} → {m_pages['unit-hr']['median_ms']:,.0f} ms "
        f"({_f(_x(s_pages['unit-hr']['median_ms'], m_pages['unit-hr']['median_ms']))}), "
        f"records-hr {s_pages['records-hr']['median_ms']:,.0f} → "
        f"{m_pages['records-hr']['median_ms']:,.0f} ms "
        f"({_f(_x(s_pages['records-hr']['median_ms'], m_pages['records-hr']['median_ms']))}; "
        f"rows read {_read(s_pages['records-hr']):,} → {_read(m_pages['records-hr']):,}): a "
        f"scope narrows what is shown, not what is grouped or hashed. The records page hashes "
        f"every enrolment and completion (B4's analysis) before it keeps the scope's people, "
        f"and at M its plan also joins org_units (for the unit's name) by scanning that "
        f"small table once per candidate row ({_table(m_pages['records-hr'], 'org_units')} "
        f"org_units rows read, {_table(s_pages['records-hr'], 'org_units')} at S; a plan "
        f"built on an estimate of one row). Starting from the scope's users (or enrolments "
        f"by unit) would make it grow with the people of the scope.",
        f"**B1's quiz burst** ({'met' if burst_ok else 'not met'}): answer save p95 "
        f"{bs['save_p95'] * 1000:,.0f} → {bm['save_p95'] * 1000:,.0f} ms, burst "
        f"{bs['burst_seconds']:.0f} → {bm['burst_seconds']:.0f} s. A learner's requests read "
        f"by key (the user, the attempt and its items, the quiz), so ten times the users, "
        f"attempts and attendance do not lengthen them. The server's peak memory "
        f"({bs['server_rss_peak_mib']:,.0f} → {bm['server_rss_peak_mib']:,.0f} MiB; largest "
        f"worker {bs['worker_rss_peak_mib']:,.0f} → {bm['worker_rss_peak_mib']:,.0f} MiB) is "
        f"the sign-ins at the start of the burst, not the data: {_sign_in_memory(bm)} The "
        f"absolute figures on PostgreSQL are B1's concern (its own section measures SQLite).",
        f"**The dashboard** reads by key (user, module): "
        f"{s_pages['dashboard']['median_ms']:,.0f} → {m_pages['dashboard']['median_ms']:,.0f} "
        f"ms, rows read {_read(s_pages['dashboard']):,} → {_read(m_pages['dashboard']):,}.",
    ]
    return (
        "### Analysis of B4 and B1\n\n"
        + "\n".join(
            textwrap.fill(
                b, 100, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False
            )
            for b in bullets
        )
        + "\n"
    )


def _unit_old(unit_s: dict, unit_m: dict, s_pages: dict, m_pages: dict) -> list[str]:
    """The unit report while it still grouped every attendance record of the period."""
    att_s = unit_s["rows_read"].get("attendance_records", 0)
    att_m = unit_m["rows_read"].get("attendance_records", 0)
    return [
        f"**The unit report grows with the data, not with what it shows.** The province page "
        f"shows {unit_s['shown']} rows at S and {unit_m['shown']} at M (the same units and "
        f"modules), but it aggregates every attendance record of the period: "
        f"{att_s:,} attendance rows read at S, {att_m:,} at M "
        f"({_f(_x(max(att_s, 1), att_m))}), and its time grew "
        f"{_f(_x(unit_s['median_ms'], unit_m['median_ms']))} ({unit_s['median_ms']:,.0f} → "
        f"{unit_m['median_ms']:,.0f} ms); the three-year report "
        f"{_f(_x(s_pages['unit-3y']['median_ms'], m_pages['unit-3y']['median_ms']))}. The "
        f"groupings also return more rows to Python (per unit, class and status: "
        f"{unit_s['rows_returned']:,} → {unit_m['rows_returned']:,}), hence its memory rise "
        f"({unit_s['rise_mib']:.0f} → {unit_m['rise_mib']:.0f} MiB).",
        "**The fix** is to stop recounting attendance per request: keep per enrolment the "
        "periods recorded by status, updated in the transaction that takes attendance (one row "
        "per enrolment instead of one per session), or a summary table per class and unit. "
        "The enrolment counters are in the app since this run (B4 measures them at S); this "
        "section is the last measured before them.",
    ]


def _unit_new(unit_s: dict, unit_m: dict, s_pages: dict, m_pages: dict) -> list[str]:
    """The unit report summing the enrolments' attendance counters."""
    return [
        f"**The unit report still grows with the data, not with what it shows.** The province "
        f"page shows {unit_s['shown']} rows at S and {unit_m['shown']} at M; it reads no "
        f"attendance record any more (each enrolment carries its periods by status), but it "
        f"groups the period's enrolments, completions and certificates: "
        f"{_read(unit_s):,} rows read at S, {_read(unit_m):,} at M, time "
        f"{_f(_x(unit_s['median_ms'], unit_m['median_ms']))} ({unit_s['median_ms']:,.0f} → "
        f"{unit_m['median_ms']:,.0f} ms); the three-year report "
        f"{_f(_x(s_pages['unit-3y']['median_ms'], m_pages['unit-3y']['median_ms']))}.",
        "**What would make it flat**: a summary per class and unit (enrolled, periods by "
        "status, completed, certified) refreshed when the data changes, so that the report "
        "groups one row per class and unit of the period; or a cache of the finished report "
        "per (scope, period) for the repeated views of a closed period.",
    ]
