"""Learners: the catalogue, a module's page, the lesson reader, assets, legal references."""

from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from learnhub import db, policy
from learnhub.accounts.forms import ConfirmForm
from learnhub.catalog import citations, services
from learnhub.catalog.models import CATEGORY_LABELS, Category, Module, ModuleVersion, StoredAsset
from learnhub.formats.markdown import render

bp = Blueprint("catalog", __name__, url_prefix="/modules")
refs_bp = Blueprint("references", __name__, url_prefix="/references")


def _visible(slug: str) -> tuple[Module, ModuleVersion]:
    """The module and the version this user reads: published, or latest for its editors."""
    module = services.by_slug(slug)
    if module is None:
        abort(404)
    if module.published_version is not None:
        return module, module.published_version
    if policy.may_edit_module(current_user, module) and module.latest_version is not None:
        return module, module.latest_version
    raise NotFound


def lesson_html(module: Module, body: str) -> str:
    """The lesson's sanitised HTML, rendered once per content: the cache is keyed by the text
    itself (and what its links depend on), so a new version with new text renders anew."""
    return _lesson_html(module.slug, request.script_root, body)


@lru_cache(maxsize=1024)
def _lesson_html(slug: str, _script_root: str, body: str) -> str:
    return render(
        body,
        lambda name: url_for("catalog.asset", slug=slug, name=name),
        lambda lesson: url_for("catalog.lesson", slug=slug, lesson_slug=lesson),
    )


@bp.get("/")
@login_required
def index():
    q = request.args.get("q", "")[:100].strip()
    modules = services.published_modules(q)
    groups = [
        (
            c,
            CATEGORY_LABELS[c],
            [m for m in modules if m.published_version.meta.get("category") == c.value],
        )
        for c in Category
    ]
    return render_template("catalog/index.html", groups=groups, q=q, count=len(modules))


@bp.get("/<slug>")
@login_required
def show(slug: str):
    module, version = _visible(slug)
    read = services.read_slugs(current_user, module)
    return render_template(
        "catalog/module.html",
        module=module,
        may_edit=policy.may_edit_module(current_user, module),
        version=version,
        read=read,
        resume=services.resume_lesson(version, read),
        category=CATEGORY_LABELS.get(
            Category(version.meta["category"])
            if version.meta.get("category") in {c.value for c in Category}
            else Category.ky_nang
        ),
    )


@bp.get("/<slug>/lessons/<lesson_slug>")
@login_required
def lesson(slug: str, lesson_slug: str):
    module, version = _visible(slug)
    current = version.lesson(lesson_slug) or abort(404)
    index = version.lessons.index(current)
    previous = version.lessons[index - 1] if index > 0 else None
    following = version.lessons[index + 1] if index + 1 < len(version.lessons) else None
    read = services.read_slugs(current_user, module)
    return render_template(
        "catalog/lesson.html",
        module=module,
        version=version,
        lesson=current,
        html=lesson_html(module, current.body),
        previous=previous,
        following=following,
        read=read,
        form=ConfirmForm(),
    )


@bp.post("/<slug>/lessons/<lesson_slug>/read")
@login_required
def mark_read(slug: str, lesson_slug: str):
    module, version = _visible(slug)
    current = version.lesson(lesson_slug) or abort(404)
    if not ConfirmForm().validate():
        abort(400)
    services.mark_read(current_user, module, current)
    db.session.commit()
    index = version.lessons.index(current)
    if index + 1 < len(version.lessons):
        return redirect(url_for(".lesson", slug=slug, lesson_slug=version.lessons[index + 1].slug))
    return redirect(url_for(".show", slug=slug))


@bp.get("/<slug>/assets/<name>")
@login_required
def asset(slug: str, name: str):
    module, version = _visible(slug)
    digest = version.assets.get(name)
    if (
        digest is None
        and policy.may_edit_module(current_user, module)
        and module.latest_version is not None
    ):
        digest = module.latest_version.assets.get(name)
    stored = db.session.get(StoredAsset, digest) if digest else None
    if stored is None:
        abort(404)
    path = Path(current_app.config["STORAGE_DIR"]) / "assets" / stored.stored_name
    response = send_file(
        path,
        mimetype=stored.mime,
        as_attachment=not stored.mime.startswith("image/"),
        download_name=name,
        max_age=86400,
    )
    # Never executed as a page, whatever the bytes say.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@refs_bp.get("/", endpoint="index")
@login_required
def references():
    rows = []
    for module in db.session.scalars(select(Module).order_by(Module.slug)):
        if module.published_version is not None:
            rows.append((module, module.published_version))
        elif policy.may_edit_module(current_user, module) and module.latest_version is not None:
            rows.append((module, module.latest_version))
    found = citations.citations(rows)
    doc = request.args.get("doc", "")[:200].strip()
    counts: dict[str, int] = {}
    for c in found:
        counts[c.document] = counts.get(c.document, 0) + 1
    selected = [c for c in found if c.document == doc] if doc else []
    return render_template(
        "catalog/references.html", counts=sorted(counts.items()), doc=doc, selected=selected
    )
