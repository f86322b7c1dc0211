"""Learners: a quiz's page, starting, answering (form or JSON autosave), submitting, review."""

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import func, select

from learnhub import db, i18n, policy
from learnhub.accounts.forms import ConfirmForm
from learnhub.core.kept import KeptPages
from learnhub.quizzes import grading, services
from learnhub.quizzes.models import Attempt, AttemptItem, AttemptState, Quiz, Review
from learnhub.security import csrf_token
from learnhub.stencils import Stencil, kept
from learnhub.timeutil import format_datetime, utcnow

bp = Blueprint("quizzes", __name__)


def _quiz(quiz_id: int) -> Quiz:
    quiz = db.get_or_404(Quiz, quiz_id)
    policy.require(policy.may_see_module(current_user, quiz.module), "quiz", quiz_id, current_user)
    return quiz


def _own_attempt(attempt_id: int) -> Attempt:
    attempt = db.get_or_404(Attempt, attempt_id)
    # Someone else's attempt does not exist for you.
    policy.require(
        policy.may_take_attempt(current_user, attempt), "attempt", attempt_id, current_user
    )
    return attempt


def band(score, *, beside_verdict: bool = False):
    """The grade band of a score, with the bands configured for this instance. *beside_verdict*:
    for a line that also says Đạt / Chưa đạt against the quiz's pass mark, where the fail band
    is left out: it only repeats the verdict ("Không đạt · Chưa đạt"), or under a pass mark
    below its bound contradicts it ("Không đạt · Đạt")."""
    bands = tuple((Decimal(lower), label) for lower, label in current_app.config["GRADE_BANDS"])
    label = grading.band(score, bands)
    if beside_verdict and label == grading.FAIL_BAND:
        return ""
    # The band names are configured in Vietnamese; shown in the reader's language.
    return _(label) if label else label


def review_level(attempt: Attempt) -> Review:
    """What this learner may see of a finished attempt now."""
    if not attempt.is_finished:
        return Review.nothing
    quiz = attempt.quiz
    return Review(quiz.review_after_close if quiz.is_closed(utcnow()) else quiz.review_after_submit)


@bp.get("/quizzes/<int:quiz_id>")
@login_required
def show(quiz_id: int):
    quiz = _quiz(quiz_id)
    now = utcnow()
    attempts = services.attempts_of(quiz, current_user)
    for attempt in attempts:
        if services.close_if_overdue(attempt, now):
            db.session.commit()
    return render_template(
        "quizzes/show.html",
        quiz=quiz,
        attempts=attempts,
        now=now,
        left=services.attempts_left(quiz, current_user),
        result=services.result_of(quiz, attempts),
        questions=len(services.active_questions(quiz.module)),
        form=ConfirmForm(),
        open_attempt=next((a for a in attempts if not a.is_finished), None),
        band=band,
        review_level=review_level,
    )


@bp.post("/quizzes/<int:quiz_id>/start")
@login_required
def start(quiz_id: int):
    quiz = _quiz(quiz_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        # Reads and draws first; the service takes the write (SQLite: the lock) for its inserts.
        attempt_id = services.start_attempt(quiz, current_user, utcnow()).id
    except services.QuizError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".show", quiz_id=quiz.id))
    db.session.commit()  # the id was read before: no reload of the attempt after the commit
    return redirect(url_for(".attempt", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if services.close_if_overdue(attempt, utcnow()):
        db.session.commit()
        flash(_("Đã hết giờ: bài đã được nộp với các câu trả lời đã lưu."), "info")
    if attempt.is_finished:
        return redirect(url_for(".review", attempt_id=attempt.id))
    items = services.page_items(attempt.id)
    title = services.quiz_title(attempt.quiz_id)
    key = (attempt.quiz_id, title, attempt.number, attempt.deadline_at is not None)
    values = {
        PAGE_ATTEMPT: str(attempt.id),
        PAGE_SUBMIT: url_for(".submit", attempt_id=attempt.id),
        PAGE_DEADLINE: escape(format_datetime(attempt.deadline_at)),
        PAGE_ANSWERED: str(sum(1 for item in items if item.answered_at is not None)),
        PAGE_COUNT: str(len(items)),
        PAGE_FORMS: _item_forms(attempt, items),
    }
    page = ATTEMPT_PAGES.get(key, values)
    if page is not None:
        return page
    return ATTEMPT_PAGES.render(
        key,
        values,
        title=title,
        number=attempt.number,
        **{name: Markup(hole) for name, hole in _PAGE_VARIABLES.items()},  # noqa: S704  # nosec B704
        deadline=Markup(PAGE_DEADLINE) if attempt.deadline_at else None,  # noqa: S704  # nosec B704
    )


#: The attempt page's own holes: the attempt's id, its submit URL, its deadline, how many of its
#: questions are answered, of how many, and the questions' forms (_item_forms).
PAGE_ATTEMPT, PAGE_SUBMIT, PAGE_DEADLINE = "\x00i", "\x00s", "\x00d"
PAGE_ANSWERED, PAGE_COUNT, PAGE_FORMS = "\x00k", "\x00m", "\x00f"
#: The template's variables that are holes (deadline too, when the attempt has one).
_PAGE_VARIABLES = {
    "attempt_id": PAGE_ATTEMPT,
    "submit_url": PAGE_SUBMIT,
    "answered": PAGE_ANSWERED,
    "count": PAGE_COUNT,
    "forms": PAGE_FORMS,
}
#: Attempt pages, kept per (quiz, its title, the attempt's number, whether it has a deadline)
#: and the reader's key (core.kept): every learner of one exam shares one, filled with their
#: attempt, its deadline, their progress and their questions' forms.
ATTEMPT_PAGES = KeptPages(
    "quizzes/attempt.html",
    holes=(PAGE_ATTEMPT, PAGE_SUBMIT, PAGE_DEADLINE, PAGE_ANSWERED, PAGE_COUNT, PAGE_FORMS),
)


#: One question's form on the attempt page (quizzes/_question.html attempt_item), per (question,
#: revision, display order, answer, saved or not, language): the same for every learner who drew
#: that version in that order and gave that answer. The order and the answer are keyed by their
#: JSON text as stored, so a page with every form cached decodes neither. The save URL, the
#: position and the CSRF token are put in afterwards (the placeholders below). An edit of a
#: question is a new revision: a new key. Rendering the macro costs about 0.1 ms a question; the
#: lookup and filling its three holes (learnhub.stencils) a few microseconds.
_FRAGMENTS: dict[tuple, Stencil] = kept({})
_FRAGMENTS_MAX = 20_000
FRAGMENT_ACTION, FRAGMENT_POSITION, FRAGMENT_TOKEN = "\x00a", "\x00p", "\x00t"


def _item_forms(attempt: Attempt, items: list[services.PageItem]) -> Markup:
    """The items' forms, one a line, each from _FRAGMENTS when this version, order and answer
    were rendered before in this language; the snapshots of the others are read (one statement)
    and rendered."""
    language = str(get_locale())
    keys = [
        (
            item.question_id,
            item.revision,
            item.order_json,
            item.answer_json or "",
            item.answered_at is not None,
            language,
        )
        for item in items
    ]
    # Looked up once into this render's own dict: another request may clear the cache meanwhile.
    found = {key: _FRAGMENTS.get(key) for key in keys}
    missing = [item for item, key in zip(items, keys, strict=True) if found[key] is None]
    if missing:
        gettext = i18n.render_callables()["gettext"]
        macro = (
            current_app.jinja_env.get_template("quizzes/_question.html")
            .make_module({"lefts": grading.lefts, "rights": grading.rights, "gettext": gettext})
            .attempt_item
        )
        snapshots = services.snapshots(attempt.id, [item.position for item in missing])
        if len(_FRAGMENTS) + len(missing) > _FRAGMENTS_MAX:
            _FRAGMENTS.clear()
        for item, key in zip(items, keys, strict=True):
            if found[key] is not None:
                continue
            snapshot = snapshots[item.position]
            found[key] = _FRAGMENTS[key] = Stencil(
                macro(
                    FRAGMENT_ACTION + FRAGMENT_POSITION,
                    FRAGMENT_TOKEN,
                    FRAGMENT_POSITION,
                    snapshot["kind"],
                    snapshot,
                    item.order,
                    item.answer or {},
                    item.answered_at is not None,
                ),
                (FRAGMENT_ACTION, FRAGMENT_POSITION, FRAGMENT_TOKEN),
            )
    values = {
        FRAGMENT_ACTION: url_for(".save", attempt_id=attempt.id, position=0).removesuffix("/0")
        + "/",
        FRAGMENT_TOKEN: csrf_token(),
    }
    forms = []
    for item, key in zip(items, keys, strict=True):
        values[FRAGMENT_POSITION] = str(item.position)
        forms.append(found[key].fill(values))
    return Markup("\n".join(forms))  # noqa: S704  # nosec B704 (stencils filled above)


def _raw_from_form(item, form) -> dict:
    kind = item.kind
    if kind == "single":
        return {"choice": form.get("choice", "")}
    if kind == "multi":
        return {"choices": form.getlist("choices")}
    if kind == "truefalse":
        return {"value": form.get("value", "")}
    if kind == "matching":
        return {"pairs": {key[5:]: value for key, value in form.items() if key.startswith("pair-")}}
    return {"text": form.get("text", "")}


@bp.post("/attempts/<int:attempt_id>/items/<int:position>")
@login_required
def save(attempt_id: int, position: int):
    """Save one answer: JSON from the autosave script, or the question's own form without it.

    The hot path of a quiz burst: the session row, then one guarded UPDATE in a write of its own
    (services.store_answer). Whose attempt it is and why nothing was saved are read only when
    the UPDATE matched nothing, after its rollback.
    """
    wants_json = request.is_json
    if wants_json:
        try:
            raw = request.get_json(silent=True)
        except RecursionError:  # JSON nested beyond the parser's depth: not an answer
            raw = None
        if not isinstance(raw, dict):
            abort(400)
    else:
        raw = _raw_from_form(_item(attempt_id, position), request.form)
    now = utcnow()
    try:
        services.store_answer(attempt_id, current_user.id, position, raw, now)
    except grading.InvalidAnswer:
        db.session.rollback()
        if wants_json:
            return jsonify(saved=False, error="invalid"), 400
        abort(400)
    except services.NotSaved:
        db.session.commit()  # nothing was written: end the write (SQLite: release the lock)
        return _refused(attempt_id, position, raw, now, wants_json)
    db.session.commit()
    return _saved(attempt_id, position, now, wants_json)


def _saved(attempt_id: int, position: int, now, wants_json: bool):
    if wants_json:
        # No new token: the page's token is valid as long as the session (WTF_CSRF_TIME_LIMIT
        # is None), so signing another one with every save would only cost time.
        return jsonify(saved=True, position=position, at=now.isoformat())
    count = db.session.scalar(
        select(func.count()).select_from(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
    )
    following = position + 1 if position < count else position
    return redirect(url_for(".attempt", attempt_id=attempt_id, _anchor=f"q{following}"))


def _item(attempt_id: int, position: int) -> AttemptItem:
    """The learner's own item (the form fallback needs its kind to read the form)."""
    attempt = _own_attempt(attempt_id)
    item = db.session.scalar(
        select(AttemptItem).where(
            AttemptItem.attempt_id == attempt.id, AttemptItem.position == position
        )
    )
    return item or abort(404)


def _refused(attempt_id: int, position: int, raw: dict, now, wants_json: bool):
    """A save the guarded UPDATE did not take: someone else's attempt (404), no such question
    (404), a finished or overdue attempt (409; an overdue one is submitted now), or an answer
    sent within the grace after the deadline (stored)."""
    attempt = _own_attempt(attempt_id)
    db.write_transaction()
    try:
        services.finish_refused_save(attempt, position, raw, now)
    except services.NoSuchQuestion:
        db.session.rollback()
        abort(404)
    except grading.InvalidAnswer:
        db.session.rollback()
        if wants_json:
            return jsonify(saved=False, error="invalid"), 400
        abort(400)
    except services.AttemptFinished as exc:
        db.session.commit()  # an overdue attempt was just submitted
        if wants_json:
            return jsonify(saved=False, error="finished", message=str(exc)), 409
        flash(str(exc), "error")
        return redirect(url_for(".review", attempt_id=attempt.id))
    db.session.commit()
    return _saved(attempt_id, position, now, wants_json)


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not ConfirmForm().validate():
        abort(400)
    # Grades first; the service takes the write (SQLite: the lock) for the result alone.
    services.submit_attempt(attempt, utcnow())
    db.session.commit()
    return redirect(url_for(".review", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not attempt.is_finished:
        flash(_("Bài chưa nộp: chưa xem được kết quả."), "info")
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    return render_template(
        "quizzes/review.html",
        attempt=attempt,
        level=review_level(attempt),
        Review=Review,
        band=band,
        feedback_for=grading.feedback_for,
        shown_answer=grading.shown_answer,
        AttemptState=AttemptState,
    )


@bp.app_template_global()
def quiz_for(module) -> Quiz | None:
    """The module's quiz (for links on module pages)."""
    return db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
