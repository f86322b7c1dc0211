"""`flask backup PATH` taken while others write restores to a working instance."""

import os
import shutil
import sqlite3
import stat
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learnhub import create_app, db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import User
from learnhub.audit.services import SYSTEM
from learnhub.certificates import services as certificates
from learnhub.certificates import signing
from learnhub.certificates.models import Certificate
from tests.certificates.test_concurrency import _certificates, committed_class
from tests.support import require

pytestmark = pytest.mark.no_rollback


def _writer(app, stop: threading.Event, written: list) -> None:
    with app.app_context():
        while not stop.is_set():
            accounts.create_user(
                SYSTEM, full_name="Người Ghi Song Song", login=f"bk-{uuid.uuid4().hex[:10]}"
            )
            db.session.commit()
            written.append(1)
        db.session.remove()


def test_backup_during_writes_restores(app, tmp_path):
    class_id, _ = committed_class(app, 2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certificates", "issue", "--class", _class_code(app, class_id)])
    assert result.exit_code == 0, result.output
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(app, stop, written))
    thread.start()
    try:
        target = tmp_path / "sao-luu"
        result = runner.invoke(args=["backup", str(target)])
    finally:
        stop.set()
        thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert written  # the backup really ran while someone wrote
    assert (target / "MANIFEST.json").is_file()
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0  # never over a backup

    if app.extensions["learnhub.engine"].dialect.name != "sqlite":
        require(shutil.which("pg_restore") is not None, "pg_restore is not installed")
        listing = subprocess.run(
            ["pg_restore", "--list", str(target / "learnhub.pgdump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "TABLE DATA public certificates" in listing
        return

    copy = target / "learnhub.sqlite"
    assert sqlite3.connect(copy).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = create_app(
        {
            **app.config,
            "DATABASE_URL": f"sqlite:///{copy}",
            "STORAGE_DIR": str(target / "storage"),
            "CERTIFICATE_KEY_FILE": str(target / "certificate-signing-key.pem"),
        }
    )
    try:
        assert restored.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0
        with restored.test_client() as client:
            assert client.get("/healthz").status_code == 200
        issued = _certificates(app, class_id)
        with restored.app_context():
            assert db.session.scalar(select(func.count()).select_from(User)) > 0
            public = signing.load_public_key(signing.public_pem(certificates.signing_key()))
            for row in issued:
                cert = db.session.get(Certificate, row.id)
                assert certificates.read_pdf(cert)[:4] == b"%PDF"  # the file came along
                assert signing.verify(public, certificates.qr_text(cert)).valid
            db.session.remove()
    finally:
        restored.extensions["learnhub.engine"].dispose()


def _class_code(app, class_id: int) -> str:
    from learnhub.classes.models import TrainingClass

    with app.app_context():
        value = db.session.get(TrainingClass, class_id).code
        db.session.remove()
        return value


def test_finding_7_backup_is_written_private(app, tmp_path):
    """The database copy, stored files and signing key are 0600, every folder 0700, whatever
    the operator's umask and the stored files' own modes."""
    storage = Path(app.config["STORAGE_DIR"]) / "backup-test"
    storage.mkdir(parents=True, exist_ok=True)
    stored = storage / "readable.pdf"
    stored.write_bytes(b"%PDF-1.7 test")
    stored.chmod(0o644)
    target = tmp_path / "sao-luu"
    previous = os.umask(0o022)
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
    finally:
        os.umask(previous)
        shutil.rmtree(storage)
    assert result.exit_code == 0, result.output
    assert (target / "storage" / "backup-test" / "readable.pdf").read_bytes() == b"%PDF-1.7 test"
    written = [target, *target.rglob("*")]
    assert any(p.name.startswith("learnhub.") for p in written)  # the database copy
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {mode:o}"
