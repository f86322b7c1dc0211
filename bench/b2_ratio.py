"""B2's warm render ratio on its own: the real certificate against the minimal page, alternated
in one process as bench/b2_certificates.py measures it (3 warm-up renders, then rounds), with
CPU time beside wall time; a quick loop for work on the certificate's render cost.

    python -m bench.b2_ratio [--rounds 60] [--against main] [--steps] [--profile] [--pdf-dir DIR]

Each round renders the minimal page, the certificate (services.render_pdf of the next issued
certificate) and, with --against REF, the same certificate through REF's certificate template
(git show REF:…; the rest of the code as checked out), in turn. Wall time is time.perf_counter
around each render (as B2); CPU time is this process's time.process_time plus the render
process's time on CPU (/proc/PID/task/*/schedstat, nanoseconds), around each render: on a shared
machine the CPU time moves less than the wall time. --steps times the certificate's steps in
this process (QR code, HTML, WeasyPrint's layout and PDF writer); --profile prints cProfile of
WeasyPrint on certificates' HTML, sorted by cumulative and by own time.
"""

import argparse
import cProfile
import os
import pstats
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("BENCH_B2_CERTIFICATES", "40")
os.environ.setdefault("BENCH_B2_PROFILED", "1")

from sqlalchemy import select

from bench import b2_certificates as b2
from learnhub import create_app, db, pdf, qrcodes
from learnhub.audit.services import Actor
from learnhub.certificates import jobs, services
from learnhub.certificates.models import Certificate
from learnhub.classes import services as classes
from learnhub.classes.models import TrainingClass
from learnhub.config import ROOT
from learnhub.timeutil import utcnow

TEMPLATE = "certificates/certificate.html"


def _child_cpu() -> float:
    """Seconds on CPU of this process's warm render process so far (all its threads)."""
    process = pdf._process
    if process is None:
        return 0.0
    total = 0
    for task in Path(f"/proc/{process.process.pid}/task").iterdir():
        with open(task / "schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU of both processes) seconds of fn()."""
    cpu, child, wall = time.process_time(), _child_cpu(), time.perf_counter()
    fn()
    wall = time.perf_counter() - wall
    return wall, time.process_time() - cpu + _child_cpu() - child


def _with_template(source: str) -> Callable[[Certificate, object], bytes]:
    """render_pdf through another version of the certificate template."""
    from flask import current_app

    other = current_app.jinja_env.from_string(source)
    real = pdf.render_template

    def swapped(name: str, **context) -> str:
        return other.render(**context) if name == TEMPLATE else real(name, **context)

    def render(cert: Certificate, issuer) -> bytes:
        pdf.render_template = swapped
        try:
            return services.render_pdf(cert, issuer)
        finally:
            pdf.render_template = real

    return render


def alternate(certs: list[Certificate], issuer, rounds: int, against: str | None) -> dict:
    variants: dict[str, Callable[[Certificate], bytes]] = {
        "minimal": lambda _cert: b2._minimal(),
        "certificate": lambda cert: services.render_pdf(cert, issuer),
    }
    if against:
        source = subprocess.run(
            ["git", "show", f"{against}:learnhub/templates/{TEMPLATE}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        old = _with_template(source)
        variants[f"certificate ({against}'s template)"] = lambda cert: old(cert, issuer)
    for i in range(b2.WARM_UP):
        for render in variants.values():
            render(certs[i % len(certs)])
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    for i in range(rounds):
        cert = certs[(b2.WARM_UP + i) % len(certs)]
        for label, render in variants.items():
            times[label].append(_timed(lambda r=render, c=cert: r(c)))
    return times


def steps(certs: list[Certificate], issuer, rounds: int) -> None:
    """Median CPU time of each step of a certificate render and of the minimal page, in this
    process: the QR code (zxing-cpp and its PNG, then the data URI), the HTML, WeasyPrint's layout and its
    PDF writer (a new certificate each round, so a new QR image)."""
    from weasyprint import HTML

    images: dict = {}

    def weasy(html: str, spent: dict, prefix: str) -> None:
        t = time.process_time()
        body, sheets = pdf._html_and_css(html)
        document = HTML(
            string=body, base_url=pdf.STATIC.as_uri() + "/", url_fetcher=pdf.url_fetcher()
        ).render(stylesheets=sheets, font_config=pdf._fonts(), cache=images)
        spent[f"{prefix} layout"] = time.process_time() - t
        t = time.process_time()
        document.write_pdf()
        spent[f"{prefix} write_pdf"] = time.process_time() - t

    rows: dict[str, list[float]] = {}
    for n in range(rounds + b2.WARM_UP):
        cert = certs[n % len(certs)]
        text = services.qr_text(cert)
        spent: dict[str, float] = {}
        t = time.process_time()
        qrcodes.png(text)
        spent["qr: qrcodes.png (zxing-cpp + PNG)"] = time.process_time() - t
        t = time.process_time()
        qrcodes.png_data_uri(text)
        spent["qr: qrcodes.png_data_uri (PNG + base64)"] = time.process_time() - t
        t = time.process_time()
        html = services.certificate_html(cert, issuer)
        spent["certificate_html"] = time.process_time() - t
        weasy(html, spent, "certificate")
        weasy(pdf.html_of("bench/minimal.html", title="B2", text=b2.MINIMAL_TEXT), spent, "minimal")
        if n >= b2.WARM_UP:
            for step, seconds in spent.items():
                rows.setdefault(step, []).append(seconds)
    for step, values in rows.items():
        print(f"  {step:32} {statistics.median(values) * 1000:6.2f} ms CPU (median)")


def profile(certs: list[Certificate], issuer, rounds: int = 30) -> None:
    """cProfile of WeasyPrint on certificates' HTML in this process, as the render process runs
    it (parsed CSS cached, fonts and image cache kept)."""
    from weasyprint import HTML

    images: dict = {}
    htmls = [services.certificate_html(certs[n % len(certs)], issuer) for n in range(rounds + 3)]

    def once(html: str) -> None:
        body, sheets = pdf._html_and_css(html)
        document = HTML(
            string=body, base_url=pdf.STATIC.as_uri() + "/", url_fetcher=pdf.url_fetcher()
        )
        document.write_pdf(stylesheets=sheets, font_config=pdf._fonts(), cache=images)

    for html in htmls[:3]:
        once(html)
    prof = cProfile.Profile()
    prof.enable()
    for html in htmls[3:]:
        once(html)
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)


def _issued(app) -> tuple[list[Certificate], object]:
    """B2's class issued by the job the command line runs (one render process)."""
    app.config["PDF_WORKERS"] = 1
    klass = classes.by_code(b2.CLASS_CODE)
    job = jobs.start(Actor(None, via="bench"), klass, utcnow())
    db.session.commit()
    jobs.run(job.id)
    certs = db.session.scalars(
        select(Certificate)
        .join(TrainingClass, TrainingClass.id == Certificate.class_id)
        .where(TrainingClass.code == b2.CLASS_CODE)
        .order_by(Certificate.register_no)
    ).all()
    return list(certs), services.issuer_for(certs[0].training_class)


def _report(times: dict[str, list[tuple[float, float]]], rounds: int) -> None:
    minimal = times["minimal"]
    print(f"{rounds} alternated rounds; load average {os.getloadavg()[0]:.2f}")
    for index, kind in ((0, "wall"), (1, "CPU ")):
        base = statistics.median(t[index] for t in minimal)
        for label, values in times.items():
            median = statistics.median(t[index] for t in values)
            per_round = statistics.median(
                v[index] / m[index] for v, m in zip(values, minimal, strict=True)
            )
            print(
                f"  {kind} {label:40} median {median * 1000:6.1f} ms = {median / base:4.2f}x "
                f"the minimal page (median of per-round ratios {per_round:4.2f}x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--against", metavar="REF", help="also render REF's certificate template")
    parser.add_argument("--steps", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--pdf-dir", type=Path, help="write one certificate and the minimal page")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="learnhub-b2-ratio-"))
    env = {
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": secrets.token_hex(32),
        "LEARNHUB_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}",
        "LEARNHUB_STORAGE_DIR": str(tmp / "storage"),
    }
    try:
        b2.prepare(env)
        app = create_app()
        with app.app_context():
            certs, issuer = _issued(app)
            if args.pdf_dir:
                args.pdf_dir.mkdir(parents=True, exist_ok=True)
                (args.pdf_dir / "certificate.pdf").write_bytes(
                    services.render_pdf(certs[0], issuer)
                )
                (args.pdf_dir / "minimal.pdf").write_bytes(b2._minimal())
            if args.steps:
                steps(certs, issuer, args.rounds)
            if args.profile:
                profile(certs, issuer)
            times = alternate(certs, issuer, args.rounds, args.against)
            db.session.remove()
        app.extensions["learnhub.engine"].dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _report(times, args.rounds)


if __name__ == "__main__":
    main()
