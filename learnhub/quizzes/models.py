"""Questions, quizzes, per-learner overrides, attempts and their frozen questions."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.accounts.models import User
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.db import Base, enum_check
from learnhub.timeutil import utcnow

SCORE = Numeric(5, 2)


class Grading(enum.StrEnum):
    highest = "highest"
    last = "last"
    average = "average"
    first = "first"


class Review(enum.StrEnum):
    """What a learner sees of a finished attempt."""

    nothing = "nothing"
    score = "score"
    full = "full"  # answers, right answers and feedback


class AttemptState(enum.StrEnum):
    in_progress = "in_progress"
    needs_grading = "needs_grading"  # essays wait for a trainer
    graded = "graded"


def revision_of(data: dict) -> int:
    """The revision a question's data records: 1 before its first edit."""
    return data.get("revision", 1)


class Question(Base):
    """A question of a module's bank (as GIFT describes it)."""

    __tablename__ = "quiz_questions"
    __table_args__ = (Index("ix_quiz_questions_module_category", "module_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    category: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    #: Everything else GIFT says (text, answers, feedback, refs), as plain data.
    data: Mapped[dict] = mapped_column(JSON)
    #: Short answers: accept answers typed without diacritics.
    ignore_accents: Mapped[bool] = mapped_column(default=False)
    #: SHA-256 of the question's GIFT text: the same question is imported once.
    source_hash: Mapped[str] = mapped_column(String(64), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[Module] = relationship()

    @property
    def text(self) -> str:
        return self.data.get("text", "")

    @property
    def revision(self) -> int:
        """Counts the edits; attempts keep the revision they drew (in their item's snapshot)."""
        return revision_of(self.data)


class Quiz(Base):
    """The final quiz of a module, with its settings."""

    __tablename__ = "quizzes"
    __table_args__ = (
        enum_check("grading", Grading),
        enum_check("review_after_submit", Review),
        enum_check("review_after_close", Review),
        CheckConstraint("pass_mark BETWEEN 0 AND 10", name="pass_mark_range"),
        CheckConstraint(
            "time_limit_minutes >= 0 AND attempts_allowed >= 0 AND per_category >= 0 "
            "AND grace_seconds >= 0",
            name="limits_non_negative",
        ),
        CheckConstraint("close_at > open_at", name="window_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    open_at: Mapped[datetime | None]
    close_at: Mapped[datetime | None]
    #: 0 = no limit.
    time_limit_minutes: Mapped[int] = mapped_column(default=0)
    #: 0 = unlimited.
    attempts_allowed: Mapped[int] = mapped_column(default=0)
    grading: Mapped[Grading] = mapped_column(String(10), default=Grading.highest)
    pass_mark: Mapped[Decimal] = mapped_column(SCORE, default=Decimal("5.00"))
    #: 0 = every active question; N = N at random from each category.
    per_category: Mapped[int] = mapped_column(default=0)
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_choices: Mapped[bool] = mapped_column(default=True)
    review_after_submit: Mapped[Review] = mapped_column(String(10), default=Review.score)
    review_after_close: Mapped[Review] = mapped_column(String(10), default=Review.full)
    #: Seconds after the deadline during which a save still counts (slow networks).
    grace_seconds: Mapped[int] = mapped_column(default=60)

    module: Mapped[Module] = relationship()

    def is_open(self, now: datetime) -> bool:
        started = self.open_at is None or self.open_at <= now
        return started and (self.close_at is None or now < self.close_at)

    def is_closed(self, now: datetime) -> bool:
        return self.close_at is not None and now >= self.close_at


class QuizOverride(Base):
    """Extra time or attempts for one learner, set by a trainer."""

    __tablename__ = "quiz_overrides"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id"),
        CheckConstraint("extra_minutes >= 0 AND extra_attempts >= 0", name="extras_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    extra_minutes: Mapped[int] = mapped_column(default=0)
    extra_attempts: Mapped[int] = mapped_column(default=0)


class Attempt(Base):
    """One learner's attempt: the questions it drew are frozen with it, answers saved as given."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        # At most one attempt in progress per learner and quiz, whatever the race.
        Index(
            "uq_quiz_attempts_one_open",
            "quiz_id",
            "user_id",
            unique=True,
            sqlite_where=text("state = 'in_progress'"),
            postgresql_where=text("state = 'in_progress'"),
        ),
        Index("ix_quiz_attempts_user_quiz", "user_id", "quiz_id"),
        enum_check("state", AttemptState),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        CheckConstraint("pass_mark BETWEEN 0 AND 10", name="pass_mark_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    number: Mapped[int]
    #: The module version the learner was tested on.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("module_versions.id"))
    state: Mapped[AttemptState] = mapped_column(String(20), default=AttemptState.in_progress)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When saves stop counting (time limit, override and close time applied); None = no limit.
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: On the 10-point scale; None until every question is graded.
    score: Mapped[Decimal | None] = mapped_column(SCORE)
    #: Copied at start: later edits of the quiz do not change a recorded result.
    pass_mark: Mapped[Decimal] = mapped_column(SCORE)

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()
    version: Mapped[ModuleVersion | None] = relationship()
    items: Mapped[list["AttemptItem"]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan"
    )

    @property
    def is_finished(self) -> bool:
        return self.state != AttemptState.in_progress

    @property
    def passed(self) -> bool | None:
        return None if self.score is None else self.score >= self.pass_mark


class AttemptItem(Base):
    """One question as the learner got it (content and choice order frozen) and the answer."""

    __tablename__ = "quiz_attempt_items"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        CheckConstraint("fraction BETWEEN 0 AND 1", name="fraction_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    position: Mapped[int]
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"), index=True)
    #: The question as it was when the attempt started (kind, text, answers, feedback, …).
    snapshot: Mapped[dict] = mapped_column(JSON)
    #: The snapshot's revision of the question (its "revision", 1 when it has none), kept beside
    #: it when the item is written: the attempt page keys its cached forms by (question,
    #: revision) without reading the snapshot.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Display order: indexes into the snapshot's answers (choices) or right-hand sides (matching).
    order: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[dict | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None]
    #: Fraction of the question's credit earned, 0..1; None until graded.
    fraction: Mapped[Decimal | None] = mapped_column(Numeric(6, 5))
    #: Essays: the trainer's mark (0-10) and comment.
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()

    @property
    def kind(self) -> str:
        return self.snapshot["kind"]
