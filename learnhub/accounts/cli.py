"""`flask users create|import`: accounts from the command line."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from learnhub import db
from learnhub.accounts import roster, services, twofactor
from learnhub.accounts.models import Role
from learnhub.audit.services import Actor
from learnhub.orgunits import services as units

CLI = Actor(None, "", "cli")


@click.group()
def users() -> None:
    """Accounts: create users and import rosters."""


@users.command()
@click.option("--login", required=True, help="Login name or e-mail.")
@click.option("--name", "full_name", required=True, help="Họ và tên.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    default=["learner"],
    show_default=True,
    help="Repeat for several roles.",
)
@click.option("--unit", default="", help="Unit code, e.g. CM-SNV.")
@click.option(
    "--hr-unit",
    "hr_units",
    multiple=True,
    help="With --role hr: a unit whose people the HR officer sees (repeat for several).",
)
@click.option(
    "--hr-every-unit",
    is_flag=True,
    help="With --role hr: every unit of the province (an explicit choice, instead of --hr-unit).",
)
@click.password_option(help="Prompted for when not given.")
@with_appcontext
def create(
    login: str,
    full_name: str,
    roles: tuple[str, ...],
    unit: str,
    hr_units: tuple[str, ...],
    hr_every_unit: bool,
    password: str,
) -> None:
    """Create an account."""
    org = units.by_code(unit) if unit else None
    if unit and org is None:
        raise click.BadParameter(f"no unit with code {unit}", param_hint="--unit")
    scope = [units.by_code(code) for code in hr_units]
    if None in scope:
        missing = hr_units[scope.index(None)]
        raise click.BadParameter(f"no unit with code {missing}", param_hint="--hr-unit")
    try:
        user = services.create_user(
            CLI,
            full_name=full_name,
            login=login,
            password=password,
            roles=services.grants_for(
                [Role(r) for r in roles],
                hr_unit_ids=[u.id for u in scope if u is not None],
                hr_every_unit=hr_every_unit,
            ),
            unit=org,
        )
    except services.ScopeRequired as exc:
        raise click.ClickException(
            f"{exc} (--hr-unit CODE, repeatable, or --hr-every-unit)"
        ) from exc
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created user {user.id}: {user.login} ({', '.join(sorted(roles))})")


@users.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
@with_appcontext
def import_(file: Path, dry_run: bool) -> None:
    """Import a CSV/XLSX roster: all rows or none, with a row-by-row report."""
    data = file.read_bytes()
    try:
        with click.progressbar(
            length=max(data.count(b"\n"), 1), label="Checking", file=sys.stderr
        ) as bar:
            plan = roster.plan_import(data, file.name, progress=bar.update)
    except roster.RosterError as exc:
        raise click.ClickException(str(exc)) from exc
    if not plan.ok:
        for p in plan.problems[:1000]:
            click.echo(f"{file.name}: row {p.row}, column '{p.column}': {p.message}")
        if len(plan.problems) > 1000:
            click.echo(f"... and {len(plan.problems) - 1000} more")
        click.echo(f"{len(plan.problems)} problem(s): nothing imported.", err=True)
        sys.exit(1)
    summary = (
        f"{len(plan.rows)} rows: {len(plan.create)} to create, "
        f"{len(plan.update)} to update, {plan.unchanged} unchanged"
    )
    if dry_run:
        click.echo(f"dry run: {summary}; nothing written.")
        return
    total = len(plan.create) + len(plan.update)
    with click.progressbar(length=max(total, 1), label="Importing", file=sys.stderr) as bar:
        roster.apply_plan(CLI, plan, progress=bar.update)
    db.session.commit()
    click.echo(f"imported: {summary}.")


@users.command("reset-two-factor")
@click.argument("login")
@with_appcontext
def reset_two_factor(login: str) -> None:
    """Remove LOGIN's two-factor authenticator and recovery codes (audited): for an admin who
    cannot sign in any more (lost phone, or SECRET_KEY changed). They enrol again at sign-in."""
    user = services.find_by_login(login)
    if user is None:
        raise click.ClickException(f"no user with login {login}")
    twofactor.reset(CLI, user)
    db.session.commit()
    click.echo(f"two-factor sign-in reset for {user.login}; every session ended")
