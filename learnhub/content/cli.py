"""`flask content check|sync`: validate content files and load them into the database."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from learnhub import db
from learnhub.audit.services import SYSTEM
from learnhub.content.orgunits import read_units
from learnhub.orgunits import services as units


@click.group()
def content() -> None:
    """Training content: check and load the files under content/."""


def _content_dir(path: str | None) -> Path:
    return Path(path or current_app.config["CONTENT_DIR"])


@content.command()
@click.argument("path", required=False)
@with_appcontext
def check(path: str | None) -> None:
    """Validate content files; print every error as file:line: message."""
    root = _content_dir(path)
    if not root.exists():
        click.echo(f"{root}:1: no such file or directory", err=True)
        sys.exit(1)
    problems = []
    units_file = root / "org-units.toml" if root.is_dir() else root
    if units_file.exists():
        problems += read_units(units_file)[1]
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} error(s)", err=True)
        sys.exit(1)
    click.echo("content OK")


@content.command()
@with_appcontext
def sync() -> None:
    """Load content/ into the database; running it again changes nothing."""
    root = _content_dir(None)
    rows, problems = read_units(root / "org-units.toml")
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    created, updated = units.sync_units(SYSTEM, rows)
    db.session.commit()
    click.echo(f"org units: {len(rows)} in file, {created} created, {updated} updated")
