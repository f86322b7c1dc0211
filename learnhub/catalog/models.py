"""Modules, their immutable versions and lessons, assets, and learners' lesson progress."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.accounts.models import User
from learnhub.content import completion
from learnhub.content.completion import CompletionRule
from learnhub.db import Base
from learnhub.orgunits.models import OrgUnit
from learnhub.timeutil import utcnow


class Category(enum.StrEnum):
    doi_ngoai_nhan_dan = "doi-ngoai-nhan-dan"
    phi_chinh_phu = "phi-chinh-phu"
    ky_nang = "ky-nang"


CATEGORY_LABELS = {
    Category.doi_ngoai_nhan_dan: _l("Đối ngoại nhân dân"),
    Category.phi_chinh_phu: _l("Công tác phi chính phủ nước ngoài"),
    Category.ky_nang: _l("Kỹ năng"),
}


class Module(Base):
    """A training module (chuyên đề); what it teaches lives in its versions."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Folder name under content/modules/; stable across edits.
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    #: The newest version (what trainers edit next) and the one learners see.
    latest_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("module_versions.id", use_alter=True)
    )
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("module_versions.id", use_alter=True)
    )
    #: Content hash of the files last loaded by `content sync` (None: made in the browser).
    files_hash: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Trainers whose scope covers this unit may edit the module.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    #: Title and summary folded (lower case, no accents) for search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    latest_version: Mapped["ModuleVersion | None"] = relationship(
        foreign_keys=[latest_version_id], post_update=True
    )
    published_version: Mapped["ModuleVersion | None"] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )
    owner: Mapped[User | None] = relationship()
    unit: Mapped[OrgUnit | None] = relationship()

    @property
    def is_published(self) -> bool:
        return self.published_version_id is not None

    @property
    def has_unpublished_changes(self) -> bool:
        return self.latest_version_id != self.published_version_id

    def __repr__(self) -> str:
        return f"<Module {self.slug}>"


class ModuleVersion(Base):
    """One immutable state of a module: metadata, lessons, question banks, asset list."""

    __tablename__ = "module_versions"
    __table_args__ = (UniqueConstraint("module_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True)
    number: Mapped[int]
    #: SHA-256 of the canonical content: the same content always has the same hash.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: The git commit of content/ when the version came from files in a repository.
    git_commit: Mapped[str | None] = mapped_column(String(40))
    #: "files" (content sync) or "browser".
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: module.toml as data: title, category, summary, periods, legal_refs, quiz, completion, …
    meta: Mapped[dict] = mapped_column(JSON)
    #: Question banks: file name -> GIFT text (deferred: the pages that show a version never
    #: read its banks, only publishing, sync and export do).
    banks: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)
    #: Assets: logical name (e.g. "so-do.png") -> sha256 of the stored file.
    assets: Mapped[dict] = mapped_column(JSON, default=dict)

    module: Mapped[Module] = relationship(foreign_keys=[module_id])
    created_by: Mapped[User | None] = relationship()
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="version", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    @property
    def category_label(self) -> str:
        value = self.meta.get("category", "")
        known = {c.value for c in Category}
        return str(CATEGORY_LABELS[Category(value)]) if value in known else value

    def lesson(self, slug: str) -> "Lesson | None":
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def completion_rule(self) -> CompletionRule:
        """The version's completion rule (module.toml [completion], defaults filled in)."""
        return completion.from_meta(self.meta.get("completion"))


class Lesson(Base):
    """A lesson as it is in one module version."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("version_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("module_versions.id"), index=True)
    position: Mapped[int]
    #: Stable across versions: progress is kept per (module, slug).
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    legal_refs: Mapped[list] = mapped_column(JSON, default=list)

    version: Mapped[ModuleVersion] = relationship(back_populates="lessons")


class StoredAsset(Base):
    """An image or attachment, stored once under a random name, addressed by its SHA-256."""

    __tablename__ = "stored_assets"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LessonProgress(Base):
    """A learner read a lesson (of some version of a module)."""

    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id", "lesson_slug"),
        Index("ix_lesson_progress_user_module", "user_id", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    lesson_slug: Mapped[str] = mapped_column(String(100))
    #: The version the learner was reading when they marked the lesson read.
    version_id: Mapped[int] = mapped_column(ForeignKey("module_versions.id"))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
