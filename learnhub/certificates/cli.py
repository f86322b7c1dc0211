"""`flask certificates issue --class CODE` and `flask certificates verify FILE_OR_QR_TEXT`."""

import io
import sys
import unicodedata
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from learnhub import db
from learnhub.audit.services import Actor
from learnhub.certificates import jobs, signing
from learnhub.classes import services as classes
from learnhub.timeutil import utcnow


@click.group("certificates")
def certificates() -> None:
    """Issue and verify certificates."""


@certificates.command("issue")
@click.option("--class", "class_code", required=True, help="The class code, e.g. DNND-2026-01.")
@with_appcontext
def issue_command(class_code: str) -> None:
    """Issue every certificate a class has earned (only those still missing)."""
    from learnhub.certificates import services

    training_class = classes.by_code(class_code)
    if training_class is None:
        raise click.ClickException(f"no class with code {class_code!r}")
    if services.certificate_settings(training_class).get("issue") == "none":
        raise click.ClickException(f"the module of {class_code} issues no certificates")
    services.issuer_for(training_class)
    job = jobs.start(Actor(None, via="cli"), training_class, utcnow())
    db.session.commit()
    if job.state == "done":
        candidates = services.review(training_class)
        done = sum(1 for c in candidates if c.completion is not None)
        if done:
            why = f"the {done} learners who completed {class_code} already hold a certificate"
        else:
            why = f"none of the {len(candidates)} learners of {class_code} has completed it yet"
        click.echo(f"0 issued: {why}.")
        return
    if job.started_at is not None:
        raise click.ClickException(f"job #{job.id} is already issuing this class's certificates")
    with click.progressbar(length=job.total, label=f"Issuing {class_code}", file=sys.stderr) as bar:
        job = jobs.run(job.id, progress=bar.update)
    if job.state != "done":
        raise click.ClickException(
            f"stopped after {job.issued} of {job.total}: {job.error} "
            "(run the command again to issue the rest; nothing is issued twice)"
        )
    click.echo(f"{job.issued} issued, {job.skipped} already had one ({class_code}).")


def _token_of_pdf(path: Path) -> tuple[str, str]:
    """The signed token a certificate PDF carries (its metadata) and its visible text."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        keywords = (reader.metadata or {}).get("/Keywords", "") or ""
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: not a readable PDF ({exc})") from exc
    token = next((w for w in str(keywords).replace(",", " ").split() if w.startswith("LH1.")), "")
    return token, unicodedata.normalize("NFC", text)


@certificates.command("verify")
@click.argument("source")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), help="PEM file.")
@with_appcontext
def verify_command(source: str, key_file: str | None) -> None:
    """Check a certificate PDF, or the text of its QR code, offline: exit 0 only when valid.

    The public key is this instance's (or --key, e.g. saved from /verify/key).
    """
    if key_file:
        public = signing.load_public_key(Path(key_file).read_text())
    else:
        private = signing.load_private_key(current_app.config["CERTIFICATE_KEY_FILE"])
        public = signing.load_public_key(signing.public_pem(private))
    path = Path(source)
    text = ""
    if len(source) < 4096 and path.suffix.lower() == ".pdf" and path.is_file():
        token, text = _token_of_pdf(path)
        if not token:
            click.echo("INVALID: the PDF carries no LearnHub signature", err=True)
            sys.exit(1)
    else:
        token = source
    checked = signing.verify(public, token)
    if not checked.valid:
        click.echo(f"INVALID: {checked.problem}", err=True)
        sys.exit(1)
    claims = checked.claims
    if text and (claims.get("n") not in text or claims.get("r") not in text):
        click.echo("INVALID: the PDF's text does not match its signed data", err=True)
        sys.exit(1)
    click.echo(
        f"VALID signature: {claims.get('r')} · {claims.get('n')} · issued {claims.get('d')}"
        + (f" · valid until {claims['v']}" if claims.get("v") else "")
    )
    click.echo("(offline check: revocation is shown only by the online page /verify/<code>)")
