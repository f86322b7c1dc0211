"""Trainers: the question bank (GIFT import/export, editing), quiz settings, results, essays,
overrides, regrading and item analysis."""

import csv
import io
import random
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from learnhub import db, policy
from learnhub.accounts import services as accounts
from learnhub.accounts.auth import current_actor, role_required
from learnhub.accounts.forms import ConfirmForm
from learnhub.accounts.models import Role, User
from learnhub.catalog.models import Module
from learnhub.formats import gift
from learnhub.quizzes import analysis, editor, grading, kinds, services
from learnhub.quizzes.forms import (
    EssayGradeForm,
    GiftUploadForm,
    OverrideForm,
    QuestionEditorForm,
    QuestionForm,
    SettingsForm,
)
from learnhub.quizzes.models import Attempt, AttemptItem, AttemptState, Question, Quiz
from learnhub.quizzes.views import band
from learnhub.timeutil import VN_TZ, utcnow

bp = Blueprint("quiz_manage", __name__, url_prefix="/manage")


def _module(module_id: int) -> Module:
    module = db.get_or_404(Module, module_id)
    policy.require(
        policy.may_edit_module(current_user, module), "module", module_id, current_user, 403
    )
    return module


def _quiz(quiz_id: int) -> Quiz:
    quiz = db.get_or_404(Quiz, quiz_id)
    allowed = policy.may_edit_module(current_user, quiz.module)
    policy.require(allowed, "quiz", quiz_id, current_user, 403)
    return quiz


def _gradable_attempt(attempt_id: int) -> Attempt:
    """The attempt, for those who may grade it (policy.may_grade_attempt; 403 otherwise)."""
    attempt = db.get_or_404(Attempt, attempt_id)
    allowed = policy.may_grade_attempt(current_user, attempt)
    policy.require(allowed, "attempt", attempt_id, current_user, 403)
    return attempt


@bp.app_template_global()
def question_type(data: dict) -> str:
    """The Vietnamese name of a question's type (bank, editor, results, analysis)."""
    return kinds.type_name(data)


@bp.get("/modules/<int:module_id>/questions")
@role_required(Role.trainer)
def bank(module_id: int):
    module = _module(module_id)
    return render_template(
        "quiz_manage/bank.html",
        module=module,
        questions=services.active_questions(module),
        upload=GiftUploadForm(),
        quiz=services.quiz_of(module),
        errors=None,
        editor_kinds=kinds.EDITOR_KINDS,
        type_names=kinds.TYPE_NAMES,
    )


@bp.post("/modules/<int:module_id>/questions/import")
@role_required(Role.trainer)
def import_gift(module_id: int):
    """Import a question file: GIFT (.gift, .txt) or Moodle XML (.xml)."""
    module = _module(module_id)
    form = GiftUploadForm()
    upload = form.file.data if form.validate() else None
    data = upload.read(services.MAX_BANK_FILE + 1) if upload else b""
    try:
        report = services.import_file(
            current_actor(), module, upload.filename if upload else "", data
        )
    except services.ImportFailed as exc:
        db.session.rollback()
        errors = exc.errors
    else:
        db.session.commit()
        flash(_("Đã nhập: %(report)s.", report=report.message()), "success")
        return redirect(url_for(".bank", module_id=module.id))
    return render_template(
        "quiz_manage/bank.html",
        module=module,
        questions=services.active_questions(module),
        upload=form,
        quiz=services.quiz_of(module),
        errors=errors,
        editor_kinds=kinds.EDITOR_KINDS,
        type_names=kinds.TYPE_NAMES,
    ), 400


@bp.get("/modules/<int:module_id>/questions.gift")
@role_required(Role.trainer)
def export_gift(module_id: int):
    module = _module(module_id)
    return Response(
        services.export_gift(module),
        mimetype="text/plain",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{module.slug}.gift"},
    )


@bp.get("/modules/<int:module_id>/questions.xml")
@role_required(Role.trainer)
def export_xml(module_id: int):
    """The bank as Moodle XML, what Moodle's question bank imports by default."""
    module = _module(module_id)
    return Response(
        services.export_xml(module),
        mimetype="text/xml",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{module.slug}.xml"},
    )


def _question(question_id: int) -> Question:
    q = db.get_or_404(Question, question_id)
    allowed = policy.may_edit_module(current_user, q.module)
    policy.require(allowed, "question", question_id, current_user, 403)
    return q


@bp.route("/modules/<int:module_id>/questions/new", methods=["GET", "POST"])
@role_required(Role.trainer)
def new_question(module_id: int):
    module = _module(module_id)
    kind = request.values.get("kind", "single")
    return _editor(module, None, editor.blank_draft(kind), False)


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@role_required(Role.trainer)
def question(question_id: int):
    q = _question(question_id)
    return _editor(q.module, q, editor.draft_of(q.data), q.ignore_accents)


def _editor(module: Module, q: Question | None, draft: editor.Draft, ignore_accents: bool):
    """The editor page: add a row, preview as a learner sees it, or save (a new revision)."""
    post = request.method == "POST"
    form = QuestionEditorForm() if post else QuestionEditorForm.of(draft, ignore_accents)
    kind = (form.kind.data if post else draft.kind) or "single"
    errors: list[str] = []
    preview = None
    if post and not form.validate():
        errors = [_("Dữ liệu không hợp lệ; hãy tải lại trang rồi thử lại.")]
    elif post and request.form.get("action") == "add":
        form.add_row()
    elif post:
        try:
            built = editor.build(form.draft())
            if request.form.get("action") == "preview":
                preview = _preview_item(built, form.ignore_accents.data)
            else:
                saved = services.save_question(
                    current_actor(), module, built, form.ignore_accents.data, q
                )
                db.session.commit()
                flash(_("Đã lưu câu hỏi (phiên bản %(n)s).", n=saved.revision), "success")
                return redirect(url_for(".bank", module_id=module.id))
        except (editor.QuestionInvalid, services.QuizError) as exc:
            db.session.rollback()
            errors = exc.errors if isinstance(exc, editor.QuestionInvalid) else [str(exc)]
    return render_template(
        "quiz_manage/editor.html",
        module=module,
        question=q,
        form=form,
        kind=kind,
        type_label=kinds.TYPE_NAMES.get(kind, kind),
        errors=errors,
        preview=preview,
        uses=services.question_uses(q) if q is not None else 0,
        categories=services.categories(module),
        lefts=grading.lefts,
        rights=grading.rights,
    )


def _preview_item(q: gift.Question, ignore_accents: bool) -> dict:
    """The question as an attempt would freeze it (choices in bank order, pairs shuffled)."""
    snapshot = {**q.as_data(), "ignore_accents": ignore_accents}
    # A fixed order: the preview must look the same on every click (nothing secret here).
    order = services.display_order(snapshot, False, random.Random(0))  # noqa: S311
    return {"snapshot": snapshot, "order": order, "kind": q.kind}


@bp.route("/questions/<int:question_id>/gift", methods=["GET", "POST"])
@role_required(Role.trainer)
def question_gift(question_id: int):
    q = _question(question_id)
    form = QuestionForm(
        data={
            "gift": gift.write([gift.Question.from_data(q.data)]).strip(),
            "ignore_accents": q.ignore_accents,
        }
        if request.method == "GET"
        else None
    )
    errors = None
    if form.validate_on_submit():
        try:
            services.update_question(current_actor(), q, form.gift.data)
            q.ignore_accents = form.ignore_accents.data
        except (services.GiftImportFailed, services.QuizError) as exc:
            db.session.rollback()
            errors = getattr(exc, "errors", None) or [gift.GiftError(1, str(exc))]
        else:
            db.session.commit()
            flash(_("Đã lưu câu hỏi. Bài đã chấm không đổi cho đến khi bạn chấm lại."), "success")
            return redirect(url_for(".bank", module_id=q.module_id))
    return render_template("quiz_manage/question.html", question=q, form=form, errors=errors)


def _day_start(day) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(), VN_TZ).astimezone(UTC).replace(tzinfo=None)


@bp.route("/quizzes/<int:quiz_id>/settings", methods=["GET", "POST"])
@role_required(Role.trainer)
def settings(quiz_id: int):
    quiz = _quiz(quiz_id)
    form = SettingsForm(obj=quiz)
    if request.method == "GET":
        form.open_on.data = quiz.open_at and (quiz.open_at + timedelta(hours=7)).date()
        form.close_on.data = (
            quiz.close_at and (quiz.close_at + timedelta(hours=7) - timedelta(days=1)).date()
        )
    if form.validate_on_submit():
        for name in (
            "title",
            "time_limit_minutes",
            "attempts_allowed",
            "grading",
            "pass_mark",
            "per_category",
            "shuffle_questions",
            "shuffle_choices",
            "review_after_submit",
            "review_after_close",
        ):
            setattr(quiz, name, getattr(form, name).data)
        quiz.open_at = _day_start(form.open_on.data)
        close = _day_start(form.close_on.data)
        quiz.close_at = close + timedelta(days=1) if close else None
        db.session.commit()
        flash(_("Đã lưu cài đặt bài kiểm tra."), "success")
        return redirect(url_for(".results", quiz_id=quiz.id))
    return render_template("quiz_manage/settings.html", quiz=quiz, form=form)


@bp.get("/quizzes/<int:quiz_id>/results")
@role_required(Role.trainer)
def results(quiz_id: int):
    quiz = _quiz(quiz_id)
    if services.close_overdue(quiz, utcnow()):
        db.session.commit()
    # By name, as Vietnamese sorts it (the given name first: User.sort_key), then attempt.
    attempts = db.session.scalars(
        select(Attempt)
        .join(Attempt.user)
        .where(Attempt.quiz_id == quiz.id)
        .order_by(User.sort_key, User.id, Attempt.number)
    ).all()
    pending = [
        (a, i)
        for a in attempts
        if a.state == AttemptState.needs_grading
        for i in a.items
        if i.kind == "essay" and i.fraction is None
    ]
    return render_template(
        "quiz_manage/results.html",
        quiz=quiz,
        attempts=attempts,
        pending=pending,
        band=band,
        override=OverrideForm(),
        confirm=ConfirmForm(),
    )


@bp.get("/attempts/<int:attempt_id>")
@role_required(Role.trainer)
def attempt_review(attempt_id: int):
    """A learner's attempt as those who grade it see it: every answer beside the key, in
    progress or submitted, whatever the quiz lets the learner see of it."""
    attempt = _gradable_attempt(attempt_id)
    return render_template(
        "quiz_manage/attempt.html",
        attempt=attempt,
        band=band,
        shown_answer=grading.shown_answer,
        feedback_for=grading.feedback_for,
        AttemptState=AttemptState,
    )


@bp.route("/attempts/<int:attempt_id>/items/<int:position>/grade", methods=["GET", "POST"])
@role_required(Role.trainer)
def grade(attempt_id: int, position: int):
    attempt = _gradable_attempt(attempt_id)
    item = db.session.scalar(
        select(AttemptItem).where(
            AttemptItem.attempt_id == attempt.id, AttemptItem.position == position
        )
    ) or abort(404)
    if item.kind != "essay":
        abort(404)
    form = EssayGradeForm(
        data={
            "mark": item.fraction * 10 if item.fraction is not None else None,
            "comment": item.comment,
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            services.grade_essay(current_actor(), item, form.mark.data, form.comment.data or "")
        except services.QuizError as exc:
            db.session.rollback()
            form.mark.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã chấm bài thu hoạch."), "success")
            return redirect(url_for(".results", quiz_id=attempt.quiz_id))
    return render_template("quiz_manage/grade.html", attempt=attempt, item=item, form=form)


@bp.post("/quizzes/<int:quiz_id>/overrides")
@role_required(Role.trainer)
def override(quiz_id: int):
    quiz = _quiz(quiz_id)
    form = OverrideForm()
    if not form.validate():
        flash(_("Dữ liệu không hợp lệ."), "error")
        return redirect(url_for(".results", quiz_id=quiz.id))
    learner = accounts.find_by_login(form.login.data)
    if learner is None:
        flash(_("Không có học viên với tên đăng nhập này."), "error")
        return redirect(url_for(".results", quiz_id=quiz.id))
    services.set_override(
        current_actor(), quiz, learner, form.extra_minutes.data, form.extra_attempts.data
    )
    db.session.commit()
    flash(_("Đã cho học viên thêm thời gian hoặc lượt làm bài."), "success")
    return redirect(url_for(".results", quiz_id=quiz.id))


@bp.route("/quizzes/<int:quiz_id>/regrade", methods=["GET", "POST"])
@role_required(Role.trainer)
def regrade(quiz_id: int):
    quiz = _quiz(quiz_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        changes = services.regrade(current_actor(), quiz, dry_run=False)
        db.session.commit()
        flash(_("Đã chấm lại: %(n)s bài thay đổi điểm.", n=len(changes)), "success")
        return redirect(url_for(".results", quiz_id=quiz.id))
    changes = services.regrade(current_actor(), quiz, dry_run=True)
    db.session.rollback()
    return render_template("quiz_manage/regrade.html", quiz=quiz, changes=changes, form=form)


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/quizzes/<int:quiz_id>/analysis")
@role_required(Role.trainer)
def item_analysis(quiz_id: int):
    quiz = _quiz(quiz_id)
    stats, alpha, count = analysis.analyse(quiz)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "question_id",
                "name",
                "attempts",
                "facility_percent",
                "discrimination_percent",
                "text",
                "flags",
            ]
        )
        for s in stats:
            writer.writerow(
                [
                    s.question_id,
                    _cell(s.name),
                    s.attempts,
                    s.facility,
                    "" if s.discrimination is None else s.discrimination,
                    _cell(s.text),
                    " ".join(s.flags),
                ]
            )
        writer.writerow([])
        writer.writerow(["cronbach_alpha", "" if alpha is None else round(alpha, 4)])
        writer.writerow(["learners", count])
        writer.writerow(["min_learners_for_meaningful_figures", analysis.MIN_LEARNERS])
        return Response(
            "\ufeff" + out.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=item-analysis-{quiz.id}.csv"},
        )
    return render_template(
        "quiz_manage/analysis.html",
        quiz=quiz,
        stats=stats,
        alpha=alpha,
        count=count,
        enough=analysis.enough(count),
        minimum=analysis.MIN_LEARNERS,
        labels=analysis.FLAG_LABELS,
        limits=analysis,
    )
