"""Learners: the catalogue, a module's page, the lesson reader, assets, legal references."""

from dataclasses import dataclass
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
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from learnhub import db, policy
from learnhub.accounts.forms import ConfirmForm
from learnhub.catalog import citations, services
from learnhub.catalog.models import CATEGORY_LABELS, Category, Module, ModuleVersion, StoredAsset
from learnhub.core.kept import KeptPages
from learnhub.formats.markdown import render
from learnhub.stencils import kept

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
    published = services.published_lesson(slug, lesson_slug, current_user)
    if published is not None:
        key = (
            slug,
            published.version_id,
            published.content_hash,
            lesson_slug,
            bool(published.read),
        )
        page = LESSON_PAGES.get(key)
        if page is not None:
            return page
    module, version = _visible(slug)
    parts = lesson_parts(module, version, lesson_slug) or abort(404)
    if published is not None and published.version_id == version.id:
        # Kept, as everything it shows depends on the key alone.
        return LESSON_PAGES.render(key, module=module, parts=parts, read=bool(published.read))
    read = parts.slug in services.read_slugs(current_user, module)
    return render_template("catalog/lesson.html", module=module, parts=parts, read=read)


#: Published lessons' pages, kept whole per (module, its published version and content, lesson,
#: whether the reader has read it) and the reader's key (core.kept): a published version never
#: changes, and publishing another changes the key.
LESSON_PAGES = KeptPages("catalog/lesson.html")


@dataclass(frozen=True)
class LessonParts:
    """What a lesson page shows that depends only on the version's content, the lesson and the
    language: its title, the part above the reader's actions (where, the text, its legal
    basis) and the pager below them."""

    slug: str
    title: str
    top: Markup
    pager: Markup
    has_following: bool


#: LessonParts per (module, content hash, version, lesson, language, script root): a published
#: version is immutable and its hash addresses its content, so an entry never goes stale; the
#: page then reads neither the version's lessons nor renders their parts again.
_PARTS: dict[tuple, LessonParts] = kept({})
_PARTS_MAX = 2048
parts_counts = {"hits": 0, "misses": 0}


def lesson_parts(module: Module, version: ModuleVersion, lesson_slug: str) -> LessonParts | None:
    """The cached parts of lesson *lesson_slug* of *version* (None: no such lesson). Only a
    published version's parts are kept; an editor's draft preview renders each time."""
    key = (
        module.slug,
        version.content_hash,
        version.id,
        lesson_slug,
        str(get_locale()),
        request.script_root,
    )
    found = _PARTS.get(key)
    if found is not None:
        parts_counts["hits"] += 1
        return found
    parts_counts["misses"] += 1
    lessons = version.lessons
    current = version.lesson(lesson_slug)
    if current is None:
        return None
    index = lessons.index(current)
    previous = lessons[index - 1] if index > 0 else None
    following = lessons[index + 1] if index + 1 < len(lessons) else None
    context = {
        "module": module,
        "version": version,
        "lesson": current,
        "number": index + 1,
        "count": len(lessons),
        "html": lesson_html(module, current.body),
        "previous": previous,
        "following": following,
    }
    parts = LessonParts(
        slug=current.slug,
        title=current.title,
        top=Markup(render_template("catalog/_lesson_top.html", **context)),  # noqa: S704  # nosec B704
        pager=Markup(render_template("catalog/_lesson_pager.html", **context)),  # noqa: S704  # nosec B704
        has_following=following is not None,
    )
    if module.published_version_id == version.id:
        if len(_PARTS) >= _PARTS_MAX:
            _PARTS.clear()
        _PARTS[key] = parts
    return parts


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
