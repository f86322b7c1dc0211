"""The certificate store on a real full file system (a small tmpfs filled up): the command line and
the web page say so clearly, no register number is burnt or given twice, and once space is back
the same class is issued 1, 2, … without a gap (issue 8: faults)."""

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learnhub import create_app, db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.certificates.models import Certificate, IssueJob, JobState, RegisterCounter
from learnhub.classes.models import TrainingClass
from tests.certificates.test_concurrency import committed_class
from tests.support import csrf_token, require, wait_until

pytestmark = pytest.mark.no_rollback


@contextlib.contextmanager
def small_file_system(size: str = "1m"):
    """A tmpfs of *size* mounted on a temporary folder (needs root and mount rights)."""
    require(os.geteuid() == 0 and shutil.which("mount"), "mounting a tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="learnhub-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        # A container without CAP_SYS_ADMIN: the sandbox forbids it, not the project. The
        # unit-level test (tests/certificates/test_lifecycle.py) still covers the logic.
        pytest.skip(f"this machine forbids mounting a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)
        folder.rmdir()


def fill(folder: Path) -> Path:
    """Write until the file system refuses: the next write fails with ENOSPC."""
    filler = folder / "filler"
    with pytest.raises(OSError, match="No space left") as full:
        filler.write_bytes(b"\0" * (4 << 20))  # more than the whole file system
    assert full.value.errno == errno.ENOSPC
    with pytest.raises(OSError, match="No space left"):
        (folder / "probe").write_bytes(b"x" * 4096)
    (folder / "probe").unlink(missing_ok=True)
    return filler


def _register(class_id: int) -> tuple[list[int], int]:
    """The register numbers given in the class, and its issuer's counter for this year."""
    numbers = db.session.scalars(
        select(Certificate.register_no)
        .where(Certificate.class_id == class_id)
        .order_by(Certificate.register_no)
    ).all()
    issuer_id = db.session.get_one(TrainingClass, class_id).issuer_id
    counter = db.session.scalar(
        select(func.max(RegisterCounter.last)).where(RegisterCounter.issuer_id == issuer_id)
    )
    return list(numbers), counter or 0


def _wait_for_job(class_id: int, states: set[JobState]) -> IssueJob:
    def reached() -> IssueJob | None:
        db.session.rollback()  # a new snapshot: the job is written by another thread
        job = db.session.scalar(
            select(IssueJob).where(IssueJob.class_id == class_id).order_by(IssueJob.id.desc())
        )
        return job if job is not None and job.state in states else None

    return wait_until(reached, timeout=120, what=f"the issue job to be {sorted(states)}")


def test_full_disk_while_storing_certificates(app):
    class_id, _learners = committed_class(app, 2)
    with small_file_system() as storage:
        full = create_app({**app.config, "STORAGE_DIR": str(storage)})
        with full.app_context():
            code = db.session.get_one(TrainingClass, class_id).code
            login = f"qt-day-{class_id}"
            accounts.create_user(
                SYSTEM,
                full_name="Quản Trị Đĩa Đầy",
                login=login,
                password="quản trị đĩa đầy 2026",
                roles=[accounts.Grant(Role.admin)],
            )
            db.session.commit()
            db.session.remove()
        filler = fill(storage)

        # The command line: a clear message, a failing exit status, nothing given.
        result = full.test_cli_runner().invoke(args=["certificates", "issue", "--class", code])
        assert result.exit_code != 0
        assert "bộ nhớ lưu trữ đầy" in result.output
        assert "chưa cấp số vào sổ nào" in result.output
        with full.app_context():
            assert _register(class_id)[0] == []
            db.session.remove()

        # The web page: the job stops with the same explanation; no number is burnt.
        client = full.test_client()
        client.post(
            "/login",
            data={
                "login": login,
                "password": "quản trị đĩa đầy 2026",
                "csrf_token": csrf_token(client),
            },
        )
        page = f"/classes/{class_id}/certificates"
        response = client.post(f"{page}/issue", data={"csrf_token": csrf_token(client, page)})
        assert response.status_code == 302
        with full.app_context():
            job = _wait_for_job(class_id, {JobState.failed})
            assert job.issued == 0
            assert _register(class_id) == ([], 0)
            job_id = job.id
            db.session.remove()
        text = client.get(f"/certificates/jobs/{job_id}").get_data(as_text=True)
        assert "bộ nhớ lưu trữ đầy" in text
        assert not list((storage / "certificates").rglob("*.pdf"))

        # Space again: the job resumes and the register goes on from 1, without gap or twin.
        filler.unlink()
        response = client.post(
            f"/certificates/jobs/{job_id}/resume",
            data={"csrf_token": csrf_token(client, f"/certificates/jobs/{job_id}")},
        )
        assert response.status_code == 302
        with full.app_context():
            job = _wait_for_job(class_id, {JobState.done, JobState.failed})
            assert job.state == JobState.done, job.error
            assert _register(class_id) == ([1, 2], 2)
            db.session.remove()
        assert len(list((storage / "certificates").rglob("*.pdf"))) == 2
        full.extensions["learnhub.engine"].dispose()
