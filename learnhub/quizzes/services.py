"""Quiz use cases: the bank (GIFT import/export), attempts, saving answers, grading, regrading."""

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, bindparam, cast, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from learnhub import db, signals
from learnhub.accounts.models import User
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.formats import gift, moodlexml
from learnhub.formats.banks import read_bank
from learnhub.formats.question import ParseError, normalised
from learnhub.quizzes import grading
from learnhub.quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptState,
    Grading,
    Question,
    Quiz,
    QuizOverride,
    revision_of,
)
from learnhub.timeutil import utcnow


class QuizError(Exception):
    """A quiz rule says no; the message is shown to the learner."""


class QuizClosed(QuizError):
    pass


class AttemptLimitReached(QuizError):
    pass


class AttemptFinished(QuizError):
    """The attempt was submitted: it never changes again (409)."""


class DeadlinePassed(AttemptFinished):
    pass


class GiftImportFailed(Exception):
    """A question file that cannot be read: nothing of it is imported."""

    def __init__(self, errors: list[ParseError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


#: The one name for a failed import, whatever the file's format.
ImportFailed = GiftImportFailed


@dataclass(frozen=True)
class ImportReport:
    """Exactly what an import stored: new rows, retired questions brought back, and the rest."""

    added: int
    unchanged: int
    #: Questions retired earlier (no longer in the files) that the import made active again.
    updated: int = 0
    #: Questions in the file stored twice there (only the first is kept).
    duplicates: int = 0
    #: Text-only items (GIFT/Moodle "description"): not questions.
    descriptions: int = 0
    #: Questions of a type LearnHub does not support: (line, name, reason).
    unsupported: tuple[tuple[int, str, str], ...] = ()

    @property
    def skipped(self) -> int:
        return self.unchanged + self.duplicates + self.descriptions + len(self.unsupported)

    def message(self) -> str:
        """ "N câu hỏi mới, M cập nhật, K bỏ qua (lý do)"."""
        reasons = []
        if self.unchanged:
            reasons.append(_("%(n)s câu đã có trong ngân hàng", n=self.unchanged))
        if self.duplicates:
            reasons.append(_("%(n)s câu lặp lại trong tệp", n=self.duplicates))
        if self.descriptions:
            reasons.append(_("%(n)s đoạn mô tả không phải câu hỏi", n=self.descriptions))
        for line, name, reason in self.unsupported:
            reasons.append(_("dòng %(line)s '%(name)s': %(why)s", line=line, name=name, why=reason))
        text = _(
            "%(a)s câu hỏi mới, %(u)s cập nhật, %(k)s bỏ qua",
            a=self.added,
            u=self.updated,
            k=self.skipped,
        )
        return f"{text} ({'; '.join(reasons)})" if reasons else text


#: The largest question file the bank reads.
MAX_BANK_FILE = 5 * 1024 * 1024


# -- the bank --------------------------------------------------------------------------------


def question_hash(q: gift.Question) -> str:
    return hashlib.sha256(gift.write([q]).encode()).hexdigest()


def active_questions(module: Module) -> list[Question]:
    stmt = (
        select(Question)
        .where(Question.module_id == module.id, Question.is_active.is_(True))
        .order_by(Question.id)
    )
    return list(db.session.scalars(stmt))


def categories(module: Module) -> list[str]:
    """The categories the module's bank uses (for the editor's suggestions)."""
    stmt = (
        select(Question.category)
        .where(Question.module_id == module.id, Question.is_active.is_(True))
        .distinct()
        .order_by(Question.category)
    )
    return [c for c in db.session.scalars(stmt) if c]


def read_bank_file(filename: str, data: bytes) -> tuple[list[gift.Question], tuple]:
    """The questions of an uploaded GIFT (.gift, .txt) or Moodle XML (.xml) file, texts in NFC,
    and the questions skipped as unsupported; GiftImportFailed (with lines) when unreadable."""
    if not data or len(data) > MAX_BANK_FILE:
        raise GiftImportFailed(
            [ParseError(1, _l("Hãy chọn một tệp GIFT hoặc Moodle XML (tối đa 5 MB)."))]
        )
    if filename.lower().endswith(".xml") or data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        result = moodlexml.parse(data)
        if result.errors:
            raise GiftImportFailed(result.errors)
        unsupported = tuple((s.line, s.name, str(s.reason)) for s in result.skipped)
        return result.questions, unsupported
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GiftImportFailed([ParseError(1, _l("Tệp phải được lưu dạng UTF-8."))]) from None
    questions, errors = gift.parse(text)
    if errors:
        raise GiftImportFailed(errors)
    return questions, ()


def import_questions(
    actor: Actor,
    module: Module,
    questions: list[gift.Question],
    source: str = "upload",
    unsupported: tuple = (),
) -> ImportReport:
    """Add parsed questions to the bank (texts in NFC); a question already there is not added
    again, a retired one comes back. The report says exactly what was stored."""
    existing = {
        q.source_hash: q
        for q in db.session.scalars(select(Question).where(Question.module_id == module.id))
    }
    seen: set[str] = set()
    added = unchanged = updated = duplicates = descriptions = 0
    for q in map(normalised, questions):
        if q.kind == "description":
            descriptions += 1
            continue
        digest = question_hash(q)
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        found = existing.get(digest)
        if found is not None:
            if found.is_active:
                unchanged += 1
            else:
                found.is_active = True
                updated += 1
            continue
        db.session.add(
            Question(
                module_id=module.id,
                category=q.category,
                name=q.name[:300],
                kind=q.kind,
                data=q.as_data(),
                source_hash=digest,
            )
        )
        added += 1
    db.session.flush()
    report = ImportReport(added, unchanged, updated, duplicates, descriptions, unsupported)
    audit.record(
        actor,
        "questions.import",
        "module",
        module.slug,
        None,
        {"added": added, "updated": updated, "skipped": report.skipped, "source": source},
    )
    return report


def import_gift(actor: Actor, module: Module, text: str, source: str = "upload") -> ImportReport:
    """Add the questions of a GIFT text to the bank; a text with any error imports nothing."""
    questions, errors = gift.parse(text)
    if errors:
        raise GiftImportFailed(errors)
    return import_questions(actor, module, questions, source)


def import_file(actor: Actor, module: Module, filename: str, data: bytes) -> ImportReport:
    """Add the questions of an uploaded GIFT or Moodle XML file; any error imports nothing."""
    questions, unsupported = read_bank_file(filename, data)
    return import_questions(actor, module, questions, f"upload:{filename[:100]}", unsupported)


def sync_bank(actor: Actor, module: Module, version: ModuleVersion) -> ImportReport:
    """Make the bank match the version's question files (questions no longer there are retired)."""
    total = ImportReport(0, 0)
    keep: set[str] = set()
    for name, text in sorted(version.banks.items()):
        questions, errors = read_bank(name, text)
        if errors:
            raise GiftImportFailed(errors)
        report = import_questions(actor, module, questions, source=f"content:{name}")
        total = ImportReport(total.added + report.added, total.unchanged + report.unchanged)
        keep |= {question_hash(normalised(q)) for q in questions}
    for question in db.session.scalars(select(Question).where(Question.module_id == module.id)):
        if question.source_hash not in keep:
            question.is_active = False
    db.session.flush()
    return total


def bank_questions(module: Module) -> list[gift.Question]:
    return [gift.Question.from_data(q.data) for q in active_questions(module)]


def export_gift(module: Module) -> str:
    """The module's active questions as GIFT (Moodle reads it back)."""
    return gift.write(bank_questions(module))


def export_xml(module: Module) -> str:
    """The module's active questions as Moodle XML (Moodle reads it back)."""
    return moodlexml.write(bank_questions(module))


def update_question(actor: Actor, question: Question, text: str) -> Question:
    """Replace a question with the one GIFT *text* describes (exactly one question)."""
    questions, errors = gift.parse(text)
    if errors:
        raise GiftImportFailed(errors)
    if len(questions) != 1 or questions[0].kind == "description":
        raise GiftImportFailed([ParseError(1, _l("Hãy viết đúng một câu hỏi."))])
    q = normalised(questions[0])
    return save_question(actor, question.module, q, question.ignore_accents, question)


class DuplicateQuestion(QuizError):
    pass


def question_uses(question: Question) -> int:
    """How many attempts drew this question (each keeps the version it was given)."""
    stmt = (
        select(func.count()).select_from(AttemptItem).where(AttemptItem.question_id == question.id)
    )
    return db.session.scalar(stmt) or 0


def save_question(
    actor: Actor,
    module: Module,
    q: gift.Question,
    ignore_accents: bool = False,
    question: Question | None = None,
) -> Question:
    """Add *q* to the bank, or make it the next revision of *question*. Audited.

    Attempts never read the bank row again: each froze the revision it drew (AttemptItem.snapshot),
    so a finished attempt keeps its text, answers and score until a trainer regrades.
    """
    digest = question_hash(q)
    same = db.session.scalar(
        select(Question).where(
            Question.module_id == module.id,
            Question.source_hash == digest,
            Question.is_active.is_(True),
        )
    )
    if same is not None and same is not question:
        raise DuplicateQuestion(_l("Ngân hàng đã có một câu hỏi giống hệt câu này."))
    if question is not None and same is question and question.ignore_accents == ignore_accents:
        return question  # nothing changed: no new revision
    data = q.as_data()
    if question is None:
        question = Question(module_id=module.id, source_hash=digest, data={}, kind=q.kind)
        db.session.add(question)
        before = None
        data["revision"] = 1
    else:
        before = {
            "revision": question.revision,
            "kind": question.kind,
            "text": question.data.get("text"),
        }
        data["revision"] = question.revision + 1
    question.data = data
    question.kind, question.name, question.category = q.kind, q.name[:300], q.category
    question.source_hash, question.ignore_accents = digest, ignore_accents
    question.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "question.update" if before else "question.create",
        "question",
        question.id,
        before,
        {"revision": data["revision"], "kind": q.kind, "text": q.text},
    )
    return question


# -- quizzes ---------------------------------------------------------------------------------


def quiz_of(module: Module) -> Quiz | None:
    """The module's quiz (every module has one from the moment it exists); reads only."""
    return db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))


@signals.module_created.connect
def _quiz_for_new_module(module: Module, **_extra: object) -> None:
    # In the transaction that creates the module, from files or the browser: a module never
    # exists without its quiz (pages only read it).
    ensure_quiz(module)


@signals.module_publishing.connect
def _quiz_ready(module: Module, version: ModuleVersion, **_extra: object) -> str | None:
    """Why *version* may not be published as far as its quiz goes (None: nothing missing)."""
    if not version.completion_rule().quiz or active_questions(module):
        return None
    return str(
        _l(
            "Điều kiện hoàn thành yêu cầu đạt bài kiểm tra, nhưng ngân hàng câu hỏi chưa có câu "
            "hỏi nào. Hãy nhập câu hỏi vào ngân hàng, hoặc bỏ yêu cầu “Phải đạt bài kiểm tra” "
            "trong điều kiện hoàn thành."
        )
    )


def ensure_quiz(module: Module) -> Quiz:
    """The module's quiz, made from its module.toml settings the first time (when the module is
    created; see _quiz_for_new_module). Never call it from a page that only displays."""
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    if quiz is not None:
        return quiz
    settings = (module.latest_version.meta if module.latest_version else {}).get("quiz", {})
    quiz = Quiz(
        module_id=module.id,
        title=settings.get("title", "Kiểm tra"),
        time_limit_minutes=settings.get("time_limit_minutes", 0),
        attempts_allowed=settings.get("attempts", 0),
        grading=Grading(settings.get("grading", "highest")),
        pass_mark=Decimal(str(settings.get("pass_mark", 5.0))).quantize(Decimal("0.01")),
        per_category=settings.get("per_category", 0),
        shuffle_questions=settings.get("shuffle_questions", True),
        shuffle_choices=settings.get("shuffle_choices", True),
    )
    db.session.add(quiz)
    db.session.flush()
    return quiz


def override_for(quiz: Quiz, user: User) -> QuizOverride | None:
    stmt = select(QuizOverride).where(
        QuizOverride.quiz_id == quiz.id, QuizOverride.user_id == user.id
    )
    return db.session.scalar(stmt)


def set_override(
    actor: Actor, quiz: Quiz, user: User, extra_minutes: int, extra_attempts: int
) -> QuizOverride:
    row = override_for(quiz, user) or QuizOverride(quiz_id=quiz.id, user_id=user.id)
    before = {"extra_minutes": row.extra_minutes, "extra_attempts": row.extra_attempts}
    row.extra_minutes, row.extra_attempts = extra_minutes, extra_attempts
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "quiz.override",
        "quiz",
        quiz.id,
        before,
        {"user": user.id, "extra_minutes": extra_minutes, "extra_attempts": extra_attempts},
    )
    return row


def attempts_of(quiz: Quiz, user: User) -> list[Attempt]:
    stmt = select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id)
    return list(db.session.scalars(stmt.order_by(Attempt.number)))


def open_attempt(quiz: Quiz, user: User) -> Attempt | None:
    return _open_attempt_of(quiz.id, user.id)


def attempts_left(quiz: Quiz, user: User) -> int | None:
    """None: unlimited."""
    allowed = _allowed(quiz, user)
    if allowed is None:
        return None
    used, _last = _count(quiz.id, user.id)
    return max(0, allowed - used)


def _allowed(quiz: Quiz, user: User) -> int | None:
    """How many attempts *user* may make (None: unlimited)."""
    if not quiz.attempts_allowed:
        return None
    return quiz.attempts_allowed + _extra(quiz, user, "attempts")


class Drawn(NamedTuple):
    """A question as a new attempt freezes it (the columns of Question it needs, nothing else)."""

    id: int
    category: str
    data: dict
    ignore_accents: bool

    @property
    def revision(self) -> int:
        return revision_of(self.data)


def draw(quiz: Quiz, rng: random.Random) -> list[Drawn]:
    """The questions of a new attempt: all, or N at random from each category.

    Read as plain rows (one SELECT of four columns): starting is the synchronised moment of an
    exam, and the attempt freezes copies of the questions, so no Question object is needed."""
    stmt = (
        select(Question.id, Question.category, Question.data, Question.ignore_accents)
        .where(Question.module_id == quiz.module_id, Question.is_active.is_(True))
        .order_by(Question.id)
    )
    questions = [Drawn(*row) for row in db.session.execute(stmt)]
    if quiz.per_category:
        by_category: dict[str, list[Drawn]] = {}
        for q in questions:
            by_category.setdefault(q.category, []).append(q)
        questions = [
            q
            for group in by_category.values()
            for q in rng.sample(group, min(quiz.per_category, len(group)))
        ]
    if quiz.shuffle_questions:
        rng.shuffle(questions)
    return questions


def display_order(data: dict, shuffle: bool, rng: random.Random) -> list[int]:
    """The order a learner sees the choices (or right-hand sides) of a question in."""
    kind = data["kind"]
    if kind in ("single", "multi"):
        order = list(range(len(data["answers"])))
    elif kind == "matching":
        order = list(range(len(data["pairs"])))
    else:
        return []
    if shuffle or kind == "matching":
        rng.shuffle(order)
    return order


def start_attempt(
    quiz: Quiz, user: User, now: datetime, rng: random.Random | None = None
) -> Attempt:
    """Resume the attempt in progress, or start one (its questions and order frozen with it).

    The rules, the learner's attempts so far and the questions are read and drawn first; the
    write (SQLite: the lock, where every other writer waits) is the two INSERTs alone. The
    unique indexes (one attempt in progress per learner and quiz, one number each) refuse an
    INSERT that a concurrent start or submit made stale; then the reads are made again under
    the write and the start decided from them. One attempt in progress per learner and quiz,
    whatever the race."""
    quiz_id, user_id = quiz.id, user.id
    existing = open_attempt(quiz, user)
    if existing is not None:
        close_if_overdue(existing, now)
        if not existing.is_finished:
            return existing
    if not quiz.is_open(now):
        raise QuizClosed(_l("Bài kiểm tra chưa mở hoặc đã đóng."))
    allowed = _allowed(quiz, user)
    used, last = _count(quiz_id, user_id)
    if allowed is not None and used >= allowed:
        raise AttemptLimitReached(_l("Bạn đã dùng hết số lần làm bài."))
    attempt, row, items = _new_attempt(quiz, user, now, rng or random.SystemRandom())
    db.write_transaction()
    if _insert(attempt, row, items, (last or 0) + 1):
        return attempt
    # Another request started or finished an attempt since the reads above: read again, now
    # under the write.
    used, last = _count(quiz_id, user_id)
    found = _open_attempt_of(quiz_id, user_id)
    if found is not None and not close_if_overdue(found, now):
        return found
    if allowed is not None and used >= allowed:
        raise AttemptLimitReached(_l("Bạn đã dùng hết số lần làm bài."))
    if _insert(attempt, row, items, (last or 0) + 1):
        return attempt
    # PostgreSQL (no database lock): yet another start won in between.
    found = _open_attempt_of(quiz_id, user_id)
    if found is not None:
        return found
    raise AttemptLimitReached(_l("Bạn đã dùng hết số lần làm bài."))


#: The learner's count of attempts at a quiz and their highest number, built once.
_COUNT = select(func.count(), func.max(Attempt.number)).where(
    Attempt.quiz_id == bindparam("quiz"), Attempt.user_id == bindparam("user")
)


def _count(quiz_id: int, user_id: int) -> tuple[int, int | None]:
    used, last = db.session.execute(_COUNT, {"quiz": quiz_id, "user": user_id}).one()
    return used, last


#: The INSERTs of a new attempt and of its items, built once (executed with each start's values:
#: no statement or bound parameter is built while SQLite's write lock is held).
_INSERT_ATTEMPT = insert(Attempt.__table__)
_INSERT_ITEMS = insert(AttemptItem.__table__)


def _insert(attempt: Attempt, row: dict[str, object], items: list[dict], number: int) -> bool:
    """The new attempt's INSERT as number *number*, then its frozen questions' (one
    executemany), both as Core statements on the tables: the ORM's flush and bulk machinery
    cost more Python than the two statements, and on SQLite this runs under the write lock,
    where every other writer waits (under a start burst, each bit of Python there also waits
    its turn for the GIL). False, with nothing written, when the attempt's INSERT breaks a
    unique index. *attempt* then joins the session as if loaded: its columns as inserted, the
    rest (its items) loaded on access."""
    attempt.number = row["number"] = number
    try:
        if db.is_writer():
            # SQLite: a refused INSERT undoes itself alone; the write lock stays held.
            inserted = db.session.execute(_INSERT_ATTEMPT, row)
        else:
            with db.session.begin_nested():
                inserted = db.session.execute(_INSERT_ATTEMPT, row)
    except IntegrityError:
        return False
    attempt.id = inserted.inserted_primary_key[0]
    make_transient_to_detached(attempt)
    # What was written is what the object holds (nothing left to load again); a column left to
    # its default, and the items, are loaded on first access.
    keys = _attribute_keys()
    for column, value in row.items():
        set_committed_value(attempt, keys[column], value)
    db.session.add(attempt)
    db.session.execute(_INSERT_ITEMS, [{**item, "attempt_id": attempt.id} for item in items])
    return True


@cache
def _attribute_keys() -> dict[str, str]:
    """Attempt's attribute names by column name."""
    return {attr.columns[0].name: attr.key for attr in sa.inspect(Attempt).column_attrs}


def _row(attempt: Attempt) -> dict[str, object]:
    """*attempt*'s INSERT values by column, read before the write: not the id, nor a column
    left to its default (loaded on first access once the attempt is in the session)."""
    row: dict[str, object] = {}
    for attr in sa.inspect(Attempt).column_attrs:
        (column,) = attr.columns
        value = getattr(attempt, attr.key)
        if column.primary_key or (value is None and column.default is not None):
            continue
        row[column.name] = value
    return row


def _extra(quiz: Quiz, user: User, what: str) -> int:
    extra = override_for(quiz, user)
    if extra is None:
        return 0
    return extra.extra_attempts if what == "attempts" else extra.extra_minutes


def _new_attempt(
    quiz: Quiz, user: User, now: datetime, rng: random.Random
) -> tuple[Attempt, dict[str, object], list[dict]]:
    """A new attempt, not yet added, its INSERT's values (its number is set under the write)
    and the rows of its items: its questions drawn and frozen (each item's snapshot and display
    order), its deadline set."""
    questions = draw(quiz, rng)
    if not questions:
        raise QuizError(_l("Bài kiểm tra chưa có câu hỏi."))
    deadline = None
    if quiz.time_limit_minutes:
        minutes = quiz.time_limit_minutes + _extra(quiz, user, "minutes")
        deadline = now + timedelta(minutes=minutes)
    if quiz.close_at is not None:
        deadline = min(deadline, quiz.close_at) if deadline else quiz.close_at
    attempt = Attempt(
        quiz_id=quiz.id,
        user_id=user.id,
        started_at=now,
        version_id=quiz.module.published_version_id,
        deadline_at=deadline,
        pass_mark=quiz.pass_mark,
        state=AttemptState.in_progress,
    )
    items = [
        {
            "position": i,
            "question_id": q.id,
            "snapshot": {**q.data, "ignore_accents": q.ignore_accents},
            "revision": q.revision,
            "order": display_order(q.data, quiz.shuffle_choices, rng),
            "comment": "",
        }
        for i, q in enumerate(questions, start=1)
    ]
    return attempt, _row(attempt), items


class PageItem(NamedTuple):
    """An item as the attempt page needs it: no snapshot (the page's cached forms are keyed by
    the question's revision; the snapshot is read only for a form not yet cached), and its
    display order and answer as the JSON text stored, which key the cache as they are (decoded
    only to render a form not yet cached)."""

    position: int
    question_id: int
    revision: int
    order_json: str
    answer_json: str | None
    answered_at: datetime | None

    @property
    def order(self) -> list:
        return json.loads(self.order_json)

    @property
    def answer(self) -> dict | None:
        return json.loads(self.answer_json) if self.answer_json else None


#: A quiz's title by id, built once (the attempt page's heading).
_QUIZ_TITLE = select(Quiz.__table__.c.title).where(Quiz.__table__.c.id == bindparam("quiz"))


def quiz_title(quiz_id: int) -> str | None:
    return db.session.execute(_QUIZ_TITLE, {"quiz": quiz_id}).scalar()


@lru_cache(maxsize=1)
def _page_items_statement():
    """page_items' SELECT, built once, on the table (a Core statement: no ORM layer)."""
    items = AttemptItem.__table__
    return (
        select(
            items.c.position,
            items.c.question_id,
            items.c.revision,
            cast(items.c.order, Text),
            cast(items.c.answer, Text),
            items.c.answered_at,
        )
        .where(items.c.attempt_id == bindparam("attempt"))
        .order_by(items.c.position)
    )


def page_items(attempt_id: int) -> list[PageItem]:
    """The items of an attempt in position order, without their snapshots (one SELECT)."""
    rows = db.session.execute(_page_items_statement(), {"attempt": attempt_id})
    return [PageItem(*row) for row in rows]


def snapshots(attempt_id: int, positions: list[int]) -> dict[int, dict]:
    """The frozen questions of an attempt at *positions*, by position (one SELECT)."""
    stmt = select(AttemptItem.position, AttemptItem.snapshot).where(
        AttemptItem.attempt_id == attempt_id, AttemptItem.position.in_(positions)
    )
    return dict(db.session.execute(stmt).all())


def _open_attempt_of(quiz_id: int, user_id: int) -> Attempt | None:
    stmt = select(Attempt).where(
        Attempt.quiz_id == quiz_id,
        Attempt.user_id == user_id,
        Attempt.state == AttemptState.in_progress,
    )
    return db.session.scalar(stmt)


class NoSuchQuestion(grading.InvalidAnswer):
    """The attempt has no question at that position (404)."""


class NotSaved(Exception):
    """store_answer's UPDATE matched nothing, so nothing was written: finish_refused_save says
    why (or stores an answer sent within the grace after the deadline)."""


def _open_attempt(attempt_id: int, user_id: int, now: datetime):
    """The guard of every answer write: this user's attempt, in progress (and, when *now* is
    given, before its deadline)."""
    guard = select(Attempt.id).where(
        Attempt.id == attempt_id,
        Attempt.user_id == user_id,
        Attempt.state == AttemptState.in_progress,
    )
    if now is not None:
        guard = guard.where(or_(Attempt.deadline_at.is_(None), Attempt.deadline_at >= now))
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise with a submit of the same attempt: it waits for this save to commit (and
        # grades the answer), or this save waits for it and then matches nothing.
        guard = guard.with_for_update(read=True)
    return guard


@lru_cache(maxsize=4)
def _store_statement(dialect: str):
    """store_answer's UPDATE, built once per backend (building it costs more than running it).
    On the tables, not the mapped classes: a Core statement skips the ORM's bulk-update
    machinery (about a third of a save's time in the view), and nothing mapped is loaded; run
    on the cursor (db.Prepared: no execution context either)."""
    attempts, items = Attempt.__table__, AttemptItem.__table__
    guard = select(attempts.c.id).where(
        attempts.c.id == bindparam("attempt"),
        attempts.c.user_id == bindparam("user"),
        attempts.c.state == AttemptState.in_progress,
        or_(attempts.c.deadline_at.is_(None), attempts.c.deadline_at >= bindparam("now")),
    )
    if dialect == "postgresql":
        # Serialise with a submit of the same attempt (see _open_attempt).
        guard = guard.with_for_update(read=True)
    return db.Prepared(
        update(items)
        .where(
            items.c.attempt_id == bindparam("attempt"),
            items.c.position == bindparam("at_position"),
            items.c.attempt_id.in_(guard),
        )
        .values(
            answer=bindparam("new_answer", type_=items.c.answer.type),
            answered_at=bindparam("now"),
        )
        .returning(items.c.id, items.c.snapshot, items.c.order)
    )


def store_answer(
    attempt_id: int,
    user_id: int,
    position: int,
    raw: dict,
    now: datetime,
    connection: sa.Connection | None = None,
) -> int:
    """The hot path of a quiz burst: store one answer with ONE guarded UPDATE (this user's
    attempt, in progress, before its deadline, this position) and return the item's id.

    The answer is shaped without the question (grading.presumed_answer), written, and checked
    against the question the UPDATE returns, all inside the write: SQLite's lock is taken just
    before the UPDATE (BEGIN IMMEDIATE) and the caller commits right after. InvalidAnswer when it
    does not fit the question (the caller rolls back: nothing stored); NotSaved when the UPDATE
    matched nothing (nothing written: the caller ends the write, then finish_refused_save).
    On the session's connection, or on *connection* (db.LeanWrite's, the answer save's door).
    """
    candidate = grading.presumed_answer(raw)
    params = {"attempt": attempt_id, "user": user_id, "at_position": position, "now": now}
    if connection is None:
        db.write_transaction()
        # On the session's connection: a Core statement needs none of the ORM session's execute.
        connection = db.session.connection()
    else:
        db.lock_for_write(connection)
    statement = _store_statement(connection.dialect.name)
    row = statement.one_or_none(connection, {**params, "new_answer": candidate})
    if row is None:
        raise NotSaved
    item_id, snapshot, order = row
    value = grading.check_answer(snapshot, order, raw)
    if value != candidate:  # e.g. a short answer's spaces, trimmed once its kind is known
        items = AttemptItem.__table__
        connection.execute(
            update(items).where(items.c.id == item_id).values(answer=value, answered_at=now)
        )
    return item_id


def finish_refused_save(attempt: Attempt, position: int, raw: dict, now: datetime) -> int:
    """After store_answer's NotSaved, read outside its write (the caller checked whose attempt
    it is): an answer sent within the grace after the deadline is stored (the item's id);
    otherwise InvalidAnswer (no such question), DeadlinePassed (an overdue attempt, submitted
    here) or AttemptFinished. The caller holds the write (write_transaction) and commits."""
    item = db.session.scalar(
        select(AttemptItem).where(
            AttemptItem.attempt_id == attempt.id, AttemptItem.position == position
        )
    )
    if item is None:
        raise NoSuchQuestion("question not in this attempt")
    if attempt.is_finished:
        raise AttemptFinished(_l("Bài đã nộp; không thể sửa câu trả lời."))
    if close_if_overdue(attempt, now):
        raise DeadlinePassed(_l("Đã hết giờ làm bài; bài đã được nộp với các câu trả lời đã lưu."))
    value = grading.check_answer(item.snapshot, item.order, raw)
    guard = _open_attempt(attempt.id, attempt.user_id, None)
    result = db.session.execute(
        update(AttemptItem)
        .where(AttemptItem.id == item.id, AttemptItem.attempt_id.in_(guard))
        .values(answer=value, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise AttemptFinished(_l("Bài đã nộp; không thể sửa câu trả lời."))
    db.session.expire(item)
    return item.id


def save_answer(attempt: Attempt, position: int, raw: dict, now: datetime) -> AttemptItem:
    """Store one answer as given (one row); refused once the attempt is finished or overdue.
    For callers holding the attempt (tests, the demo): the save view calls store_answer."""
    db.write_transaction()
    try:
        # A savepoint stands in for the view's rollback: a refused answer leaves nothing behind.
        with db.session.begin_nested():
            item_id = store_answer(attempt.id, attempt.user_id, position, raw, now)
    except NotSaved:
        db.session.refresh(attempt)
        item_id = finish_refused_save(attempt, position, raw, now)
    item = db.session.get(AttemptItem, item_id)
    db.session.expire(item)
    return item


def _result(fractions: list[Decimal | None]) -> tuple[AttemptState, Decimal | None]:
    """An attempt's state and score from its items' grades: needs grading (no score) while
    any answer awaits a trainer's mark, otherwise graded on the ten-point scale."""
    if any(f is None for f in fractions):
        return AttemptState.needs_grading, None
    total = sum(fractions, Decimal(0))  # type: ignore[arg-type]
    return AttemptState.graded, grading.ten_point(total, Decimal(len(fractions)))


def _score(attempt: Attempt, now: datetime | None = None) -> None:
    attempt.state, attempt.score = _result([x.fraction for x in attempt.items])
    if attempt.state != AttemptState.graded:
        return
    db.session.flush()
    signals.attempt_graded.send(attempt, now=now or utcnow())


#: submit_attempt's statements, built once: the items as grading reads them (before the write),
#: their answers as they are then (under it), their grades, and the result.
_items = AttemptItem.__table__
_ITEMS_TO_GRADE = select(_items.c.id, _items.c.snapshot, _items.c.order, _items.c.answer).where(
    _items.c.attempt_id == bindparam("attempt")
)
_ITEM_ANSWERS = select(_items.c.id, _items.c.answer).where(
    _items.c.attempt_id == bindparam("attempt")
)
_SET_FRACTION = (
    update(_items)
    .where(_items.c.id == bindparam("item"))
    .values(fraction=bindparam("new_fraction", type_=_items.c.fraction.type))
)
_SET_SCORE = (
    update(Attempt.__table__)
    .where(Attempt.__table__.c.id == bindparam("attempt"))
    .values(
        state=bindparam("new_state", type_=Attempt.__table__.c.state.type),
        score=bindparam("new_score", type_=Attempt.__table__.c.score.type),
    )
)


def submit_attempt(attempt: Attempt, now: datetime) -> Attempt:
    """Finish and grade; a second submit (or a race) returns the same single result.

    The answers are read (as plain rows) and graded first; the write (SQLite: the lock, where
    every other writer waits; at the end of an exam, a whole class's submits) is the guarded
    UPDATE that finishes the attempt, one read of the answers as they are then (a save may
    have landed since: only the answers, graded again where they changed), the grades in one
    executemany and the result: statements built once, no ORM object loaded or flushed."""
    attempt_id = attempt.id
    rows = (
        {}
        if attempt.is_finished
        else {
            item_id: (snapshot, order, answer)
            for item_id, snapshot, order, answer in db.session.execute(
                _ITEMS_TO_GRADE, {"attempt": attempt_id}
            )
        }
    )
    graded = {
        item_id: (answer, _fraction(snapshot, order, answer))
        for item_id, (snapshot, order, answer) in rows.items()
    }
    db.write_transaction()
    result = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.state == AttemptState.in_progress)
        .values(state=AttemptState.needs_grading, submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(attempt)
        return attempt
    fractions: dict[int, Decimal | None] = {}
    for item_id, answer in db.session.execute(_ITEM_ANSWERS, {"attempt": attempt_id}):
        seen, fraction = graded[item_id]
        if answer != seen:  # saved since it was graded: graded again, as it is now
            snapshot, order, _ = rows[item_id]
            fraction = _fraction(snapshot, order, answer)
        fractions[item_id] = fraction
    db.session.execute(
        _SET_FRACTION, [{"item": item, "new_fraction": f} for item, f in fractions.items()]
    )
    state, score = _result(list(fractions.values()))
    if state == AttemptState.graded:
        db.session.execute(
            _SET_SCORE, {"attempt": attempt_id, "new_state": state, "new_score": score}
        )
    # The ORM's copy follows what was written: the attempt's result now, its items (if they
    # were loaded) on their next use.
    if "items" in sa.inspect(attempt).dict:
        for item in attempt.items:
            db.session.expire(item)
        db.session.expire(attempt, ["items"])
    set_committed_value(attempt, "state", state)
    set_committed_value(attempt, "submitted_at", now)
    set_committed_value(attempt, "score", score)
    if state == AttemptState.graded:
        signals.attempt_graded.send(attempt, now=now)
    return attempt


def _fraction(snapshot: dict, order: list, answer: dict | None) -> Decimal | None:
    return grading.grade(snapshot, order, answer, snapshot.get("ignore_accents", False))


def _grade(item: AttemptItem) -> Decimal | None:
    return _fraction(item.snapshot, item.order, item.answer)


def close_if_overdue(attempt: Attempt, now: datetime) -> bool:
    """Submit an attempt whose time (and grace) has run out; True when it did."""
    if attempt.is_finished or attempt.deadline_at is None or now <= attempt.deadline_at:
        return False  # in time whatever the grace (never negative): the quiz is not read
    if now <= attempt.deadline_at + timedelta(seconds=attempt.quiz.grace_seconds):
        return False
    submit_attempt(attempt, now)
    return True


def close_overdue(quiz: Quiz, now: datetime) -> int:
    stmt = select(Attempt).where(
        Attempt.quiz_id == quiz.id,
        Attempt.state == AttemptState.in_progress,
        Attempt.deadline_at.is_not(None),
    )
    return sum(close_if_overdue(a, now) for a in db.session.scalars(stmt))


def grade_essay(actor: Actor, item: AttemptItem, mark: Decimal, comment: str) -> Attempt:
    """A trainer's mark (0-10) for an essay; the attempt's score follows. Audited."""
    if item.kind != "essay":
        raise QuizError(_l("Chỉ chấm tay bài thu hoạch."))
    if not Decimal(0) <= mark <= Decimal(10):
        raise QuizError(_l("Điểm phải từ 0 đến 10."))
    attempt = item.attempt
    if attempt.state == AttemptState.in_progress:
        raise QuizError(_l("Bài chưa nộp."))
    before = {
        "mark": None if item.fraction is None else str(item.fraction * 10),
        "score": None if attempt.score is None else str(attempt.score),
    }
    item.fraction = (mark / 10).quantize(Decimal("0.00001"))
    item.comment = comment
    item.graded_by_id = actor.user_id
    _score(attempt)
    db.session.flush()
    audit.record(
        actor,
        "attempt.grade",
        "attempt",
        attempt.id,
        before,
        {
            "mark": str(mark),
            "score": None if attempt.score is None else str(attempt.score),
            "item": item.position,
        },
    )
    return attempt


def result_of(quiz: Quiz, attempts: list[Attempt]) -> Decimal | None:
    """The learner's result by the quiz's grading method, over graded attempts."""
    scores = [a.score for a in attempts if a.state == AttemptState.graded and a.score is not None]
    if not scores:
        return None
    if quiz.grading == Grading.highest:
        return max(scores)
    if quiz.grading == Grading.first:
        return scores[0]
    if quiz.grading == Grading.last:
        return scores[-1]
    return (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Regrade:
    attempt: Attempt
    old: Decimal | None
    new: Decimal | None


def regrade(actor: Actor, quiz: Quiz, dry_run: bool = True) -> list[Regrade]:
    """Grade finished attempts again against the questions as they are now (after a fix).

    With dry_run nothing changes: the list says whose score would. Answers are never touched.
    """
    questions = {q.id: q for q in active_questions(quiz.module)}
    changes: list[Regrade] = []
    stmt = select(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.state != AttemptState.in_progress
    )
    for attempt in db.session.scalars(stmt.order_by(Attempt.id)):
        fractions = []
        for item in attempt.items:
            current = questions.get(item.question_id)
            snapshot = item.snapshot
            if (
                current is not None
                and item.kind != "essay"
                and len(current.data.get("answers", [])) == len(snapshot.get("answers", []))
                and len(current.data.get("pairs", [])) == len(snapshot.get("pairs", []))
            ):
                snapshot = {**current.data, "ignore_accents": current.ignore_accents}
            fraction = (
                item.fraction
                if item.kind == "essay"
                else grading.grade(
                    snapshot, item.order, item.answer, snapshot.get("ignore_accents", False)
                )
            )
            fractions.append((item, snapshot, fraction))
        if any(f is None for _, _, f in fractions):
            new = None
        else:
            new = grading.ten_point(
                sum((f for _, _, f in fractions), Decimal(0)), Decimal(len(fractions))
            )
        if new != attempt.score:
            changes.append(Regrade(attempt, attempt.score, new))
            if not dry_run:
                for item, snapshot, fraction in fractions:
                    item.snapshot, item.fraction = snapshot, fraction
                    item.revision = revision_of(snapshot)  # the column beside the snapshot
                old = attempt.score
                _score(attempt)
                audit.record(
                    actor,
                    "attempt.regrade",
                    "attempt",
                    attempt.id,
                    {"score": None if old is None else str(old)},
                    {"score": None if attempt.score is None else str(attempt.score)},
                )
    db.session.flush()
    return changes
