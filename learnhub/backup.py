"""`flask backup PATH`: a consistent copy of the database, the stored files and the signing key.

SQLite is copied with its online backup API (a consistent snapshot, also while others write);
PostgreSQL with pg_dump (one snapshot transaction) in its custom format. Stored files never change
once written (certificates are named by their SHA-256), so copying them after the database
snapshot gives a copy in which every file the database names exists.

A backup holds every account, grade and the signing key: it is written readable by its owner
only (files 0600, folders 0700, under umask 077), whatever the operator's umask.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url


def _copy_sqlite(database: str, target: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest, pages=1024)
    finally:
        dest.close()
        source.close()


def _dump_postgresql(url: str, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException("pg_dump not found (apt-get install postgresql-client)")
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    result = subprocess.run(  # noqa: S603 (our own configured database URL, no shell)
        [pg_dump, "--format=custom", "--no-owner", f"--file={target}", plain],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise click.ClickException(f"pg_dump failed: {result.stderr.strip()[-500:]}")


PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def _make_private(path: Path) -> None:
    """Owner-only modes on the folder and everything in it (also after a failed backup)."""
    path.chmod(PRIVATE_DIR)
    for item in path.rglob("*"):
        if not item.is_symlink():
            item.chmod(PRIVATE_DIR if item.is_dir() else PRIVATE_FILE)


@click.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Write a consistent copy of the database and stored files into the folder PATH."""
    if path.exists() and any(path.iterdir()):
        raise click.ClickException(f"{path} is not empty: choose a new folder")
    previous = os.umask(0o077)  # nothing is ever readable by others, even for a moment
    try:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(PRIVATE_DIR)
        _write_backup(path)
    finally:
        if path.is_dir():
            _make_private(path)
        os.umask(previous)


def _write_backup(path: Path) -> None:
    config = current_app.config
    url = make_url(config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(url.database, path / "learnhub.sqlite")
        database = "learnhub.sqlite"
    else:
        _dump_postgresql(config["DATABASE_URL"], path / "learnhub.pgdump")
        database = "learnhub.pgdump (pg_restore --no-owner -d NEWDB learnhub.pgdump)"
    storage = Path(config["STORAGE_DIR"])
    files = [p for p in storage.rglob("*") if p.is_file() and not p.name.startswith(".")]
    with click.progressbar(files, label="Stored files", file=sys.stderr) as bar:
        for source in bar:
            target = path / "storage" / source.relative_to(storage)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)  # created under the umask (copy2 would copy modes)
    key = Path(config["CERTIFICATE_KEY_FILE"])
    if key.exists():
        shutil.copyfile(key, path / key.name)
    manifest = {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database,
        "storage_files": len(files),
        "signing_key": key.name if key.exists() else None,
    }
    (path / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    click.echo(f"Backup written to {path}: {database}, {len(files)} stored files.")
    click.echo(
        "Restore: point LEARNHUB_DATABASE_URL, LEARNHUB_STORAGE_DIR and "
        "LEARNHUB_CERTIFICATE_KEY_FILE at the copies (or copy them back), then `flask db upgrade`."
    )
