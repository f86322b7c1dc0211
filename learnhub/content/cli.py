"""`flask content check|sync|export`: validate content files, load them, write them back."""

import shutil
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from learnhub import db
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.catalog.models import StoredAsset
from learnhub.content.export import export_version
from learnhub.content.modules import load_module, module_folders
from learnhub.content.orgunits import read_units
from learnhub.content.sync import sync_content


@click.group()
def content() -> None:
    """Training content: check, load and export the files under content/."""


def _content_dir(path: str | None) -> Path:
    return Path(path or current_app.config["CONTENT_DIR"])


def check_tree(root: Path) -> list:
    """Every problem under *root* (a content folder, a module folder or org-units.toml)."""
    if root.is_file():
        return read_units(root)[1]
    problems = []
    if (root / "org-units.toml").exists():
        problems += read_units(root / "org-units.toml")[1]
    for folder in module_folders(root):
        problems += load_module(folder)[1]
    return problems


@content.command()
@click.argument("path", required=False)
@with_appcontext
def check(path: str | None) -> None:
    """Validate content files; print every error as file:line: message."""
    root = _content_dir(path)
    if not root.exists():
        click.echo(f"{root}:1: no such file or directory")
        sys.exit(1)
    problems = check_tree(root)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} error(s)", err=True)
        sys.exit(1)
    click.echo(f"content OK: {len(module_folders(root))} module(s)")


def git_commit(root: Path) -> str | None:
    """The commit of the repository holding *root*, when there is one and git is installed."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [git, "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


@content.command()
@with_appcontext
def sync() -> None:
    """Load content/ into the database; running it again changes nothing."""
    root = _content_dir(None)
    problems = check_tree(root)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(problems)} error(s): nothing loaded", err=True)
        sys.exit(1)
    storage = Path(current_app.config["STORAGE_DIR"])
    for line in sync_content(SYSTEM, root, storage, git_commit(root)):
        click.echo(line)
    db.session.commit()


@content.command("export")
@click.argument("slug")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def export(slug: str, directory: Path) -> None:
    """Write module SLUG (browser edits included) as files under DIRECTORY/SLUG."""
    module = catalog.by_slug(slug)
    if module is None or module.latest_version is None:
        raise click.ClickException(f"no module '{slug}'")
    storage = Path(current_app.config["STORAGE_DIR"]) / "assets"

    def asset_bytes(digest: str) -> bytes:
        asset = db.session.get(StoredAsset, digest)
        return (storage / asset.stored_name).read_bytes()

    folder = export_version(module, module.latest_version, directory, asset_bytes)
    click.echo(
        f"wrote {folder} (version {module.latest_version.number}, "
        f"{module.latest_version.content_hash[:12]})"
    )
