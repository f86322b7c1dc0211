"""Bulk issue with a pool of render processes (PDF_WORKERS): the same register, in the same order,
with the same documents as one process gives; a render that fails in a worker is reported and
leaves the register consistent; the pool leaves no process behind."""

import os
import re
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub import db, pdf
from learnhub.audit.services import Actor
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate, JobState, RegisterCounter
from learnhub.classes.models import TrainingClass
from learnhub.timeutil import utcnow
from tests.certificates.test_concurrency import committed_class
from tests.certificates.test_pdf import decode_qr, pdf_text

pytestmark = pytest.mark.no_rollback

LEARNERS = 5


def _children() -> set[int]:
    """Live child processes of this process, read from /proc (no psutil)."""
    me, found = os.getpid(), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


@pytest.fixture
def pools(monkeypatch):
    """Every RenderPool a test opens, to look at its processes afterwards."""
    opened: list[pdf.RenderPool] = []

    class Recorded(pdf.RenderPool):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(pdf, "RenderPool", Recorded)
    return opened


def _issue_class(app, workers: int) -> tuple[list[int], list[Certificate], tuple[str, int]]:
    class_id, user_ids = committed_class(app, LEARNERS)
    app.config["PDF_WORKERS"] = workers
    try:
        with app.app_context():
            klass = db.session.get(TrainingClass, class_id)
            job_id = jobs.start(Actor(None), klass, utcnow()).id
            db.session.commit()
            job = jobs.run(job_id)
            outcome = (job.state, job.issued)
            db.session.remove()
    finally:
        app.config["PDF_WORKERS"] = None
    with app.app_context():
        rows = db.session.scalars(
            select(Certificate)
            .where(Certificate.class_id == class_id)
            .order_by(Certificate.register_no)
        ).all()
        db.session.expunge_all()
        db.session.remove()
    return user_ids, rows, outcome


def _document(app, cert: Certificate, tmp_path) -> tuple[str, str]:
    """The stored PDF's text and its decoded QR code."""
    with app.app_context():
        data = certificates.read_pdf(cert)
    return unicodedata.normalize("NFC", pdf_text(data)), decode_qr(data, tmp_path)


def _generic(text: str, cert: Certificate) -> str:
    """*text* with the certificate's own code, serial and issuer code put as C, S and I. The
    text is read back from the PDF, where a long code may wrap inside itself (where depends on
    its letters' widths), so a value matches with a line break anywhere in it."""
    issuer_code = cert.number_label.split("-")[-1]
    for value, mark in ((cert.code, "C"), (cert.serial, "S"), (issuer_code, "I")):
        text = re.sub(r"\s?".join(map(re.escape, value)), mark, text)
    return text


def test_two_workers_issue_the_same_register_as_one(app, pools, tmp_path):
    results = {workers: _issue_class(app, workers) for workers in (1, 2)}
    assert len(pools) == 1  # one process: no pool; two: a pool of two
    assert pools[0].size == 2
    for _workers, (user_ids, rows, outcome) in results.items():
        assert outcome == (JobState.done, LEARNERS)
        # Gapless, in learner (completion) order, one distinct stored PDF each.
        assert [r.register_no for r in rows] == list(range(1, LEARNERS + 1))
        assert [r.user_id for r in rows] == user_ids
        assert len({r.pdf_sha256 for r in rows}) == LEARNERS
    (_, one, _), (_, two, _) = results[1], results[2]
    for a, b in zip(one, two, strict=True):
        text_a, qr_a = _document(app, a, tmp_path)
        text_b, qr_b = _document(app, b, tmp_path)
        for cert, text, qr in ((a, text_a, qr_a), (b, text_b, qr_b)):
            assert cert.number_label in text
            assert cert.data["full_name"] in text
            assert cert.serial in text
            assert qr.split("#", 1)[0].endswith(f"/verify/{cert.code}")
        # The same document but for the code, the serial and the issuer's own code.
        assert _generic(text_a, a) == _generic(text_b, b)
    assert all(pid not in _children() for pid in pools[0].pids)


def test_a_render_failure_in_a_worker_is_reported_and_leaves_the_register_consistent(
    app, pools, monkeypatch
):
    class_id, user_ids = committed_class(app, LEARNERS)
    real_html = certificates.certificate_html
    slow = user_ids[2]

    def third_never_ends(cert, issuer):
        html = real_html(cert, issuer)
        if cert.user_id == slow:  # far past PDF_TIMEOUT: its render process is killed
            html = html.replace("</body>", "<p>trang</p>" * 60_000 + "</body>")
        return html

    storage = Path(app.config["STORAGE_DIR"]) / "certificates"
    files_before = set(storage.rglob("*.pdf"))
    monkeypatch.setitem(app.config, "PDF_WORKERS", 2)
    monkeypatch.setitem(app.config, "PDF_TIMEOUT", 3)
    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        job_id = jobs.start(Actor(None), klass, utcnow()).id
        db.session.commit()
        with monkeypatch.context() as m:
            m.setattr(certificates, "certificate_html", third_never_ends)
            job = jobs.run(job_id)
        # Reported: the job failed and says why; the two learners before it have their numbers.
        assert job.state == JobState.failed
        assert "PDF render took longer than 3 s" in job.error
        assert job.issued == 2
        rows = db.session.scalars(select(Certificate).where(Certificate.class_id == class_id)).all()
        assert sorted((r.register_no, r.user_id) for r in rows) == [
            (1, user_ids[0]),
            (2, user_ids[1]),
        ]
        issuer_id = klass.issuer_id
        counter = db.session.scalar(
            select(RegisterCounter.last).where(RegisterCounter.issuer_id == issuer_id)
        )
        assert counter == 2  # no number taken for the learner whose render failed
        # Only the issued certificates' PDFs were stored (none of the drafts under way).
        new_files = set(storage.rglob("*.pdf")) - files_before
        assert {f.stem for f in new_files} == {r.pdf_sha256 for r in rows}
        db.session.remove()
    # The timed-out process was killed, the others stopped when the pool closed.
    assert pools
    assert all(pid not in _children() for pool in pools for pid in pool.pids)

    with app.app_context():  # run again: the rest, gapless, in order
        job = jobs.run(job_id)
        assert job.state == JobState.done
        assert job.issued == LEARNERS
        rows = db.session.scalars(
            select(Certificate)
            .where(Certificate.class_id == class_id)
            .order_by(Certificate.register_no)
        ).all()
        assert [(r.register_no, r.user_id) for r in rows] == list(
            zip(range(1, LEARNERS + 1), user_ids, strict=True)
        )
        db.session.remove()


def test_the_pool_stops_its_processes_when_it_closes(app):
    with app.app_context():
        html = pdf.html_of("bench/minimal.html", title="B2", text="Chứng nhận")
    with pdf.RenderPool(2, 30) as renderers:
        futures = [renderers.submit(html) for _ in range(4)]
        assert all(f.result().startswith(b"%PDF") for f in futures)
        pids = renderers.pids
        assert len(pids) == 2
        assert set(pids) <= _children()
    assert not set(pids) & _children()
    with pytest.raises(pdf.RenderFailed):
        renderers.submit(html)
