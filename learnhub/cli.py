"""`flask db …` (migrations) and `flask demo` (demo data).

Alembic is imported by the commands that use it, not when the app registers them: every
`flask` command (e.g. `flask reports export`) would otherwise pay for importing it."""

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from learnhub.config import ROOT
from learnhub.demo import create_demo

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


def alembic_config() -> "AlembicConfig":
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["engine"] = current_app.extensions["learnhub.engine"]
    return cfg


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


@db_group.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(), revision)
    except CommandError as exc:  # e.g. rows that break a new constraint: the report, no trace
        raise click.ClickException(str(exc)) from exc


@db_group.command()
@with_appcontext
def check() -> None:
    """Fail when the models and the migrations disagree."""
    from alembic import command

    command.check(alembic_config())


@db_group.command()
@click.option("-m", "--message", required=True)
@with_appcontext
def revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    from alembic import command

    command.revision(alembic_config(), message=message, autogenerate=True)


@click.command()
@with_appcontext
def demo() -> None:
    """Create the demo accounts (development only); prints their logins once."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("demo data is for development; not in production")
    for line in create_demo():
        click.echo(line)
