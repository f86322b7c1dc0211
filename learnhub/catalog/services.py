"""Catalogue use cases: load modules from files, edit them in the browser, publish, record reading.

Every change to what a module teaches makes a new immutable ModuleVersion; nothing a learner did
points to anything that changes later.
"""

import copy
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import joinedload

from learnhub import db, images, signals
from learnhub.accounts.models import User
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.catalog.models import Lesson, LessonProgress, Module, ModuleVersion, StoredAsset
from learnhub.content.completion import CompletionRule
from learnhub.content.modules import (
    IMAGE_TYPES,
    MAX_ASSET,
    TABLES,
    TOP,
    ModuleSource,
    content_hash,
    sniff,
)
from learnhub.textutil import collation_key, fold
from learnhub.timeutil import utcnow


class CatalogError(Exception):
    """A rule about modules says no; the message is shown to the person."""


class AssetTooLarge(CatalogError):
    """A file over MAX_ASSET that is not a photo we can scale down (answered with 413)."""


@dataclass
class Draft:
    """The editable content of a module: what a new version is made from."""

    meta: dict
    lessons: list[tuple[int, str, str, str, list[str]]]  # position, slug, title, body, refs
    banks: dict[str, str]
    assets: dict[str, str]  # name -> sha256

    @classmethod
    def of(cls, version: ModuleVersion) -> "Draft":
        return cls(
            copy.deepcopy(version.meta),
            [(x.position, x.slug, x.title, x.body, list(x.legal_refs)) for x in version.lessons],
            dict(version.banks),
            dict(version.assets),
        )

    def content_hash(self) -> str:
        return content_hash(self.meta, [list(x) for x in self.lessons], self.banks, self.assets)


#: by_slug's SELECT, built once (every module and lesson page starts with it), with the published
#: version in the same statement: those pages read it next, and a lazy load of it costs about
#: as much again as the module's own row.
_MODULE_BY_SLUG = (
    select(Module)
    .options(joinedload(Module.published_version))
    .where(Module.slug == bindparam("slug"))
)


def by_slug(slug: str) -> Module | None:
    return db.session.execute(_MODULE_BY_SLUG, {"slug": slug}).unique().scalar_one_or_none()


# -- stored files ----------------------------------------------------------------------------


def store_asset(storage_dir: Path, data: bytes) -> StoredAsset:
    """Keep *data* once, under a random name, typed by its content."""
    digest = hashlib.sha256(data).hexdigest()
    found = db.session.get(StoredAsset, digest)
    if found is not None:
        return found
    mime = sniff(data)
    if mime is None:
        raise CatalogError(_l("Chỉ nhận ảnh PNG, JPEG, GIF, WebP hoặc tệp PDF."))
    name = secrets.token_hex(16)
    folder = storage_dir / "assets"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    asset = StoredAsset(sha256=digest, stored_name=name, mime=mime, size=len(data))
    db.session.add(asset)
    db.session.flush()
    return asset


def store_upload(storage_dir: Path, data: bytes) -> tuple[StoredAsset, bool]:
    """Keep an uploaded file; a photo over MAX_ASSET is scaled down to fit (True) rather than
    refused. Any other file over the limit raises AssetTooLarge."""
    if len(data) <= MAX_ASSET:
        return store_asset(storage_dir, data), False
    smaller = images.shrink(data, MAX_ASSET) if sniff(data) in IMAGE_TYPES else None
    if smaller is None:
        raise AssetTooLarge(_l("Tệp lớn hơn 5 MB."))
    return store_asset(storage_dir, smaller[0]), True


# -- versions --------------------------------------------------------------------------------


def _new_version(
    module: Module, draft: Draft, source: str, actor: Actor, git_commit: str | None = None
) -> ModuleVersion:
    number = (
        db.session.scalar(
            select(func.max(ModuleVersion.number)).where(ModuleVersion.module_id == module.id)
        )
        or 0
    ) + 1
    version = ModuleVersion(
        module_id=module.id,
        number=number,
        content_hash=draft.content_hash(),
        git_commit=git_commit,
        source=source,
        created_by_id=actor.user_id,
        meta=draft.meta,
        banks=draft.banks,
        assets=draft.assets,
    )
    version.lessons = [
        Lesson(position=p, slug=s, title=t, body=b, legal_refs=r) for p, s, t, b, r in draft.lessons
    ]
    db.session.add(version)
    db.session.flush()
    module.latest_version = version
    db.session.flush()
    return version


def _index(module: Module, version: ModuleVersion) -> None:
    meta = version.meta
    module.search_text = fold(
        " ".join([meta.get("title", ""), meta.get("summary", ""), module.slug])
    )


def publish(actor: Actor, module: Module) -> ModuleVersion:
    """Learners see the latest version from now on."""
    version = module.latest_version
    if version is None:
        raise CatalogError(_l("Chuyên đề chưa có nội dung."))
    if not version.lessons:
        raise CatalogError(_l("Cần ít nhất một bài học trước khi công bố."))
    # Higher domains say what else is missing (quizzes: a required quiz with no questions).
    missing = [m for _r, m in signals.module_publishing.send(module, version=version) if m]
    if missing:
        raise CatalogError(" ".join(str(m) for m in missing))
    before = module.published_version.number if module.published_version else None
    module.published_version = version
    _index(module, version)
    db.session.flush()
    audit.record(
        actor,
        "module.publish",
        "module",
        module.slug,
        {"version": before},
        {"version": version.number},
    )
    return version


def unpublish(actor: Actor, module: Module) -> None:
    """Back to draft: learners no longer see the module (their progress is kept)."""
    before = module.published_version.number if module.published_version else None
    module.published_version = None
    db.session.flush()
    audit.record(actor, "module.unpublish", "module", module.slug, {"version": before}, None)


def sync_module(
    actor: Actor, source: ModuleSource, storage_dir: Path, git_commit: str | None = None
) -> tuple[Module, bool]:
    """Load a module read from files; a new version only when the files changed."""
    file_hash = source.content_hash()
    module = by_slug(source.slug)
    if module is not None and module.files_hash == file_hash:
        return module, False
    created = module is None
    if module is None:
        module = Module(slug=source.slug)
        db.session.add(module)
        db.session.flush()
    assets = {name: store_asset(storage_dir, data).sha256 for name, data in source.assets.items()}
    draft = Draft(
        {k: v for k, v in source.meta.items() if k != "status"},
        [(x.position, x.slug, x.title, x.body, list(x.legal_refs)) for x in source.lessons],
        dict(source.banks),
        assets,
    )
    version = _new_version(module, draft, "files", actor, git_commit)
    module.files_hash = file_hash
    _index(module, version)
    if source.meta.get("status") == "published":
        module.published_version = version
    db.session.flush()
    if created:
        signals.module_created.send(module)
    audit.record(
        actor,
        "module.sync",
        "module",
        module.slug,
        None,
        {"version": version.number, "hash": version.content_hash[:12]},
    )
    return module, True


def save_draft(actor: Actor, module: Module, draft: Draft) -> ModuleVersion | None:
    """Make a new version from *draft* when it differs from the latest; None when unchanged."""
    latest = module.latest_version
    if latest is not None and latest.content_hash == draft.content_hash():
        return None
    version = _new_version(module, draft, "browser", actor)
    audit.record(
        actor,
        "module.edit",
        "module",
        module.slug,
        {"version": latest.number if latest else None},
        {"version": version.number},
    )
    return version


def normalise_meta(meta: dict) -> dict:
    """Fill in every key module.toml may hold, so files and browser agree on the hash."""
    full = {k: v for k, (_t, v, _a) in TOP.items() if k != "status"}
    full.update({k: v for k, v in meta.items() if k in TOP and k != "status"})
    for table, specs in TABLES.items():
        given = meta.get(table, {})
        full[table] = {k: given.get(k, default) for k, (_t, default, _a) in specs.items()}
    return full


def set_completion_rule(draft: Draft, rule: CompletionRule) -> Draft:
    """*draft* with *rule* as its completion rule (module.toml [completion])."""
    draft.meta["completion"] = rule.as_dict()
    return draft


def normalise_text(text: str) -> str:
    """Lesson text as files keep it: NFC, LF line ends, one final newline."""
    return (
        unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip() + "\n"
    )


def create_module(actor: Actor, slug: str, meta: dict, owner: User | None) -> Module:
    """A new module made in the browser (a draft until published)."""
    if by_slug(slug) is not None:
        raise CatalogError(_l("Mã chuyên đề này đã được dùng."))
    module = Module(slug=slug, owner=owner, unit=owner.unit if owner else None)
    db.session.add(module)
    db.session.flush()
    save_draft(actor, module, Draft(normalise_meta(meta), [], {}, {}))
    _index(module, module.latest_version)
    signals.module_created.send(module)
    return module


def current_draft(module: Module) -> Draft:
    if module.latest_version is None:
        raise CatalogError(_l("Chuyên đề chưa có nội dung."))
    return Draft.of(module.latest_version)


def set_lesson(
    draft: Draft, slug: str, title: str, body: str, refs: list[str], new_slug: str | None = None
) -> Draft:
    """Replace (or append) the lesson *slug* in *draft*."""
    lessons = []
    found = False
    for position, s, t, b, r in draft.lessons:
        if s == slug:
            lessons.append((position, new_slug or slug, title, body, refs))
            found = True
        else:
            lessons.append((position, s, t, b, r))
    if not found:
        if any(s == (new_slug or slug) for _, s, *_ in draft.lessons):
            raise CatalogError(_l("Đã có bài học với mã này."))
        lessons.append((len(lessons) + 1, new_slug or slug, title, body, refs))
    draft.lessons = lessons
    return draft


def add_lesson(draft: Draft, slug: str, title: str, body: str, refs: list[str]) -> Draft:
    """Append a new lesson to *draft*; its code must be free (a new lesson never replaces one)."""
    taken = next((t for _p, s, t, _b, _r in draft.lessons if s == slug), None)
    if taken is not None:
        raise CatalogError(
            _l(
                "Mã bài học “%(slug)s” đã được dùng cho bài “%(title)s”. Hãy chọn mã khác, "
                "hoặc mở bài đó để sửa.",
                slug=slug,
                title=taken,
            )
        )
    return set_lesson(draft, slug, title, body, refs)


def restore_version(actor: Actor, module: Module, version: ModuleVersion) -> ModuleVersion | None:
    """Make *version*'s content the latest again, as a NEW version (history is never rewritten);
    None when the latest version already has that content. Publishing stays a separate step."""
    if version.module_id != module.id:
        raise CatalogError(_l("Phiên bản này không thuộc chuyên đề."))
    latest = module.latest_version
    draft = Draft.of(version)
    if latest is not None and latest.content_hash == draft.content_hash():
        return None
    restored = _new_version(module, draft, "browser", actor)
    audit.record(
        actor,
        "module.restore",
        "module",
        module.slug,
        {"version": latest.number if latest else None},
        {"version": restored.number, "restored_from": version.number},
    )
    return restored


def move_lesson(draft: Draft, slug: str, step: int) -> Draft:
    """Move a lesson up (-1) or down (+1); positions stay 1..n."""
    order = sorted(draft.lessons)
    index = next((i for i, x in enumerate(order) if x[1] == slug), None)
    if index is None:
        raise CatalogError(_l("Không có bài học này."))
    target = index + step
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    draft.lessons = [(i, s, t, b, r) for i, (_p, s, t, b, r) in enumerate(order, start=1)]
    return draft


# -- learners --------------------------------------------------------------------------------


#: read_slugs' SELECT, built once, on the table (no ORM layer: every lesson page runs it).
_READ_SLUGS = (
    select(LessonProgress.__table__.c.lesson_slug)
    .where(LessonProgress.__table__.c.user_id == bindparam("user"))
    .where(LessonProgress.__table__.c.module_id == bindparam("module"))
)


def read_slugs(user: User, module: Module) -> set[str]:
    return set(db.session.scalars(_READ_SLUGS, {"user": user.id, "module": module.id}))


_progress = LessonProgress.__table__.c
_PUBLISHED_LESSON = db.Prepared(
    select(
        ModuleVersion.id.label("version_id"),
        ModuleVersion.content_hash,
        exists()
        .where(_progress.user_id == bindparam("user"))
        .where(_progress.module_id == Module.id)
        .where(_progress.lesson_slug == bindparam("lesson"))
        .label("read"),
    )
    .join_from(Module, ModuleVersion, ModuleVersion.id == Module.published_version_id)
    .where(Module.slug == bindparam("slug"))
)


def published_lesson(slug: str, lesson_slug: str, user: User) -> tuple | None:
    """What a published lesson's page depends on, in one row (version_id, content_hash, read:
    whether *user* has read the lesson *lesson_slug*); None when the module *slug* has no
    published version. The lesson page's key (catalog.views.lesson): the row names the page,
    it does not say the lesson exists."""
    return _PUBLISHED_LESSON.one_or_none(
        db.session.connection(), {"slug": slug, "lesson": lesson_slug, "user": user.id}
    )


def mark_read(user: User, module: Module, lesson: Lesson) -> LessonProgress:
    """Record that *user* read *lesson* (idempotent: the first reading is kept)."""
    stmt = select(LessonProgress).where(
        LessonProgress.user_id == user.id,
        LessonProgress.module_id == module.id,
        LessonProgress.lesson_slug == lesson.slug,
    )
    found = db.session.scalar(stmt)
    if found is not None:
        return found
    now = utcnow()
    progress = LessonProgress(
        user_id=user.id,
        module_id=module.id,
        lesson_slug=lesson.slug,
        version_id=lesson.version_id,
        read_at=now,
    )
    db.session.add(progress)
    db.session.flush()
    signals.lesson_read.send(user, module=module, now=now)
    return progress


def resume_lesson(version: ModuleVersion, read: set[str]) -> Lesson | None:
    """Where a learner picks up: the first lesson not yet read (the last one when all are)."""
    for lesson in version.lessons:
        if lesson.slug not in read:
            return lesson
    return version.lessons[-1] if version.lessons else None


def published_modules(query: str = "") -> list[Module]:
    """Published modules, optionally matching *query* without regard to accents or case."""
    stmt = select(Module).where(Module.published_version_id.is_not(None))
    for word in fold(query).split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Module.search_text.like(f"%{escaped}%", escape="\\"))
    found = db.session.scalars(stmt.order_by(Module.slug)).all()
    return sorted(found, key=lambda m: collation_key(m.published_version.title))


@dataclass(frozen=True)
class ModuleProgress:
    module: Module
    read: int
    total: int


def my_modules(user: User) -> list[ModuleProgress]:
    """Published modules the user has started, with how many lessons are read."""
    stmt = (
        select(LessonProgress.module_id, func.count())
        .where(LessonProgress.user_id == user.id)
        .group_by(LessonProgress.module_id)
    )
    counts = dict(db.session.execute(stmt).all())
    if not counts:
        return []
    modules = db.session.scalars(select(Module).where(Module.id.in_(counts))).all()
    out = []
    for module in modules:
        version = module.published_version
        if version is not None:
            slugs = {x.slug for x in version.lessons}
            read = len(read_slugs(user, module) & slugs)
            out.append(ModuleProgress(module, read, len(slugs)))
    return sorted(out, key=lambda p: p.module.slug)
