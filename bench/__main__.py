"""`make bench`: run the benchmarks and write bench/RESULTS.md.

`python -m bench` runs B1 to B5 (bounded: about 25 minutes on 2 cores); B4's pages at size M and
the growth run (each about an hour) only with BENCH_GROWTH=1. `BENCH_ONLY=b2 python -m bench` runs only B2 (a
comma-separated list also works). Each workload writes its own section to bench/results/<name>.md,
with when, where and how it was measured in a first-line comment, and RESULTS.md is rebuilt from a
header and every section file present, so a workload run alone keeps the others' last figures.
The exit code is non-zero only for correctness failures, never for a missed speed target.
"""

import importlib
import os
import platform
import re
import sqlite3
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTIONS = HERE / "results"
META = re.compile(
    r"<!-- measured: (?P<when>[^;]+); command: (?P<command>[^;]+); machine: (?P<machine>.+?) -->\n"
)


def _machine() -> str:
    cores = os.cpu_count()
    try:
        psql = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        psql = "not installed"
    return (
        f"{cores} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {psql or 'psql not installed'}"
    )


@dataclass(frozen=True)
class Workload:
    title: str
    module: str
    #: The markdown section of the figures (called with run()'s result).
    section: Callable[[dict], str] | None = None
    #: Correctness, not speed: False makes the exit code non-zero.
    correct: Callable[[dict], bool] | None = None


WORKLOADS = {
    "b1": Workload("B1 (quiz hot path: wrk, sign-in ramp, exam)", "bench.b1_quiz_burst"),
    "b2": Workload("B2 (certificates)", "bench.b2_certificates"),
    "b3": Workload("B3 (HR export)", "bench.b3_export"),
    "b4": Workload("B4 (reports at province scale)", "bench.b4_reports"),
    "b5": Workload("B5 (page weight)", "bench.b5_pages"),
    "b4m": Workload("B4 at size M (reports)", "bench.b4m_reports"),
    "growth": Workload("Growth from S to M (PostgreSQL)", "bench.m_growth"),
}
#: Workloads that `make bench` runs only when asked (BENCH_GROWTH=1 or BENCH_ONLY).
OPT_IN = {"b4m", "growth"}
#: Workloads of shared/quality/performance.md that have no benchmark yet.
PENDING: dict[str, str] = {}


def _selected() -> list[str]:
    only = os.environ.get("BENCH_ONLY", "").strip().lower()
    if not only:
        # The size-M runs (B4M and growth, each about an hour) are not part of the bounded
        # default: BENCH_GROWTH=1 adds them, BENCH_ONLY=b4m or BENCH_ONLY=growth runs one alone.
        growth = os.environ.get("BENCH_GROWTH", "") not in ("", "0")
        return [n for n in WORKLOADS if n not in OPT_IN or growth]
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        sys.exit(
            f"BENCH_ONLY: unknown workload {', '.join(unknown)} (known: {', '.join(WORKLOADS)})"
        )
    return names


def _read_section(path: Path) -> tuple[dict, str]:
    """A section file's metadata (when, command, machine) and its markdown."""
    text = path.read_text(encoding="utf-8")
    found = META.match(text)
    if found is None:
        return {}, text
    return found.groupdict(), text[found.end() :]


def _write_section(name: str, markdown: str, when: datetime, command: str, machine: str) -> None:
    SECTIONS.mkdir(exist_ok=True)
    meta = f"<!-- measured: {when:%Y-%m-%d %H:%M} UTC; command: {command}; machine: {machine} -->\n"
    (SECTIONS / f"{name}.md").write_text(meta + markdown.rstrip("\n") + "\n", encoding="utf-8")


def _rebuild(started: datetime, command: str, machine: str, failed: list[str]) -> str:
    sections, measured = [], []
    names = list(WORKLOADS) + sorted(
        p.stem for p in SECTIONS.glob("*.md") if p.stem not in WORKLOADS
    )
    for name in names:
        path = SECTIONS / f"{name}.md"
        if not path.is_file():
            continue
        meta, markdown = _read_section(path)
        sections.append(markdown.rstrip("\n") + "\n")
        if meta:
            where = "" if meta["machine"] == machine else f" on {meta['machine']}"
            measured.append(f"{name.upper()} on {meta['when']} (`{meta['command']}`){where}")
    missing = [
        title
        for name, title in {**{n: w.title for n, w in WORKLOADS.items()}, **PENDING}.items()
        if not (SECTIONS / f"{name}.md").is_file()
    ]
    if len(missing) > 1:
        listed = ", ".join(missing[:-1]) + f" and {missing[-1]}"
    else:
        listed = "".join(missing)
    failures = (
        f"\nNot rewritten by this run because it failed (the section is the previous one): "
        f"{', '.join(f.upper() for f in failed)}.\n"
        if failed
        else ""
    )
    note = (
        f"{listed} {'needs' if len(missing) == 1 else 'need'} the features of the later steps; "
        f"{'it is' if len(missing) == 1 else 'they are'} added with those steps."
    )
    not_yet = f"\n## Not yet measured\n\n{textwrap.fill(note, 100)}\n" if missing else ""
    header = textwrap.fill(
        f"Command: `make bench` (runs `python -m bench`: B1 to B5; B4 at size M and the growth run with "
        f"BENCH_GROWTH=1); `BENCH_ONLY=b2 python -m "
        f"bench` runs one workload and keeps the other sections as last measured. Sections "
        f"measured: {'; '.join(measured)}. Targets are ratios against a baseline measured in the "
        f"same run (shared/quality/performance.md), or counts. B1's throughput is measured with "
        f"`wrk`, a C client, against a bare Flask hello under the same gunicorn.",
        100,
        break_on_hyphens=False,
    )
    body = "\n".join(sections)
    return f"""# LearnHub benchmark results

Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC.
Machine: {machine}.
{header}
{failures}
{body}{not_yet}"""


def main() -> None:
    started = datetime.now(UTC)
    names = _selected()
    only = os.environ.get("BENCH_ONLY", "").strip()
    command = f"BENCH_ONLY={only} python -m bench" if only else "python -m bench"
    machine = _machine()
    ok, failed = True, []
    for name in names:
        workload = WORKLOADS[name]
        print(f"{workload.title} …", flush=True)
        module = importlib.import_module(workload.module)
        when = datetime.now(UTC)
        try:
            result = module.run()
        except Exception:
            traceback.print_exc()
            ok = False
            failed.append(name)
            continue
        section = workload.section or module.section
        correct = workload.correct or module.correct
        _write_section(name, section(result), when, command, machine)
        if not correct(result):
            print(f"{workload.title}: CORRECTNESS FAILURE (see its section)", flush=True)
            ok = False
    text = _rebuild(started, command, machine, failed)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
