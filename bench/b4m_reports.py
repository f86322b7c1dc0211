"""B4M: B4's pages at size M (`flask bench seed --size M`: ten times the people, classes and
records of S), on SQLite and (with BENCH_PG_URL) PostgreSQL, against size M's target (the unit
report ≤ 1 s). Opt-in, like the growth run: seeding M takes tens of minutes per backend
(`BENCH_ONLY=b4m python -m bench`, or BENCH_GROWTH=1 with the rest).

BENCH_B4M_SEEDED_SQLITE (a SQLite URL) and BENCH_B4M_SEEDED_PG (a PostgreSQL URL) name databases
that `flask bench seed --size M` has already filled: the pages are measured there without
seeding again (about 25 minutes per backend on 2 cores), the databases are left as they are, and
the section says the seed was not timed in this run.
"""

import os

from bench import b4_reports


def run() -> dict:
    return b4_reports.run(
        size="M",
        seeded_sqlite=os.environ.get("BENCH_B4M_SEEDED_SQLITE", "").strip(),
        seeded_pg=os.environ.get("BENCH_B4M_SEEDED_PG", "").strip(),
    )


def correct(r: dict) -> bool:
    return b4_reports.correct(r)


def section(r: dict) -> str:
    return b4_reports.section(r)
