"""B4M: B4's pages at size M (`flask bench seed --size M`: ten times the people, classes and
records of S), on SQLite and (with BENCH_PG_URL) PostgreSQL, against size M's target (the unit
report ≤ 1 s). Opt-in, like the growth run: seeding M takes tens of minutes per backend
(`BENCH_ONLY=b4m python -m bench`, or BENCH_GROWTH=1 with the rest).
"""

from bench import b4_reports


def run() -> dict:
    return b4_reports.run(size="M")


def correct(r: dict) -> bool:
    return b4_reports.correct(r)


def section(r: dict) -> str:
    return b4_reports.section(r)
