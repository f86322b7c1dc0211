"""The class dossier (hồ sơ lớp): one ZIP with what Nghị định 30/2020 asks a course file to keep.

Files (under a folder named after the class code), always in Vietnamese:

- ``01-danh-sach-hoc-vien.xlsx``: the roster;
- ``02-diem-danh.xlsx``: attendance, one sheet, a column per session, then periods attended
  (weighted by the class's completion rule) over periods held;
- ``03-ket-qua-kiem-tra.xlsx``: the module quiz per learner (attempts, result by the quiz's
  grading method, essay mark, band);
- ``04-danh-sach-hoan-thanh.xlsx``: the completions;
- ``05-so-cap-gcn.xlsx`` and ``05-so-cap-gcn.pdf``: the class's entries of the certificate
  register (the register's own PDF layout, learnhub/pdf.py).

Who may download it: the class's managers (policy.may_manage_class: admins, its trainers,
trainers who may edit its module) and HR officers *without* a unit limit. An HR officer limited
to a unit does not get it: a roster usually spans many units, and the dossier is the whole class
(they have the completion records and histories of their own people instead).
"""

import io
import re
import zipfile
from collections import defaultdict
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learnhub import db, pdf, policy
from learnhub.accounts.models import User
from learnhub.attendance.models import STATUS_LABELS as ATTENDANCE_LABELS
from learnhub.attendance.models import Status as Attendance
from learnhub.attendance.services import records_of_class, weights
from learnhub.certificates import register
from learnhub.certificates.frame import document_frame
from learnhub.certificates.models import Certificate, Issuer
from learnhub.certificates.services import grade_band
from learnhub.classes import feedback
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.i18n import format_number
from learnhub.quizzes.models import Attempt, AttemptItem, AttemptState, Quiz
from learnhub.quizzes.services import result_of
from learnhub.reports import records
from learnhub.timeutil import format_date, to_local, today
from learnhub.xlsx import Book as XlsxBook
from learnhub.xlsx import Sheet as XlsxSheet

ROSTER = "01-danh-sach-hoc-vien.xlsx"
ATTENDANCE = "02-diem-danh.xlsx"
SCORES = "03-ket-qua-kiem-tra.xlsx"
COMPLETIONS = "04-danh-sach-hoan-thanh.xlsx"
REGISTER_XLSX = "05-so-cap-gcn.xlsx"
REGISTER_PDF = "05-so-cap-gcn.pdf"
REGISTER_NOTE = "05-so-cap-gcn.txt"
FEEDBACK = "06-tong-hop-phieu-danh-gia.xlsx"


def can_download(user: User, training_class: TrainingClass) -> bool:
    """Those who run the class and HR officers of every unit (policy.may_download_dossier)."""
    return policy.may_download_dossier(user, training_class)


def folder(training_class: TrainingClass) -> str:
    return "ho-so-lop-" + (re.sub(r"[^A-Za-z0-9-]+", "-", training_class.code).strip("-") or "lop")


def _title_block(sheet: XlsxSheet, title: str, klass: TrainingClass) -> None:
    sheet.line(title, bold=True, size=14)
    sheet.line(klass.title, bold=True)
    dates = f"{format_date(klass.starts_on)} – {format_date(klass.ends_on)}"
    sheet.line(f"Mã lớp: {klass.code} · Thời gian: {dates}")
    if klass.decision_no:
        decision = f"Quyết định mở lớp: {klass.decision_no}"
        if klass.decision_on:
            decision += f" ngày {format_date(klass.decision_on)}"
        sheet.line(decision)
    sheet.line()
    sheet.header()


def _roster(klass: TrainingClass) -> list[tuple[User, object]]:
    rows = db.session.execute(
        select(User, Enrolment.enrolled_at)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.class_id == klass.id, Enrolment.is_active)
        .options(selectinload(User.unit))
    ).all()
    return sorted(((u, at) for u, at in rows), key=lambda r: (r[0].given_name_key, r[0].id))


def _unit_name(user: User) -> str:
    return user.unit.name if user.unit is not None else ""


def roster_xlsx(klass: TrainingClass, people) -> bytes:
    book = XlsxBook()
    sheet = book.sheet(
        "Danh sách học viên",
        (
            ("STT", 6),
            ("Họ và tên", 28),
            ("Ngày sinh", 12),
            ("Chức vụ", 22),
            ("Ngạch", 18),
            ("Đơn vị", 36),
            ("Tên đăng nhập/Email", 26),
            ("Ngày ghi danh", 14),
        ),
    )
    _title_block(sheet, "DANH SÁCH HỌC VIÊN", klass)
    for index, (user, enrolled_at) in enumerate(people, start=1):
        sheet.row(
            [
                index,
                user.full_name,
                user.birth_date,
                user.position,
                user.rank,
                _unit_name(user),
                user.login,
                to_local(enrolled_at).date() if enrolled_at else None,
            ],
            ("0",),
        )
    return book.save()


def attendance_xlsx(klass: TrainingClass, people) -> bytes:
    sessions = list(klass.sessions)
    records = records_of_class(klass)
    rule = klass.completion_rule()
    weight = weights(rule.count_excused, rule.late_weight)
    on = today()
    held = sum(s.periods for s in sessions if s.on <= on)
    columns = [("STT", 6), ("Họ và tên", 28), ("Đơn vị", 30)]
    columns += [(f"Buổi {s.number} ({format_date(s.on)}, {s.periods} tiết)", 16) for s in sessions]
    columns += [("Số tiết tham dự", 12), ("Số tiết đã học", 12), ("Tỷ lệ", 10)]
    book = XlsxBook()
    sheet = book.sheet("Điểm danh", columns)
    _title_block(sheet, "TỔNG HỢP ĐIỂM DANH", klass)
    for index, (user, _at) in enumerate(people, start=1):
        marks, attended = [], Decimal(0)
        for s in sessions:
            record = records.get((s.id, user.id))
            if record is None:
                marks.append("")
                continue
            status = Attendance(record.status)
            marks.append(str(ATTENDANCE_LABELS[status]))
            attended += s.periods * weight[status]
        share = attended / Decimal(held) if held else None
        sheet.row(
            [index, user.full_name, _unit_name(user), *marks, attended, held, share],
            ["0", None, None, *([None] * len(sessions)), "0.##", "0", "0.0%"],
        )
    sheet.line()
    sheet.line(
        "Số tiết tham dự tính theo điều kiện hoàn thành của lớp: có mặt tính đủ; vắng có phép "
        + ("được tính." if rule.count_excused else "không được tính.")
    )
    return book.save()


def scores_xlsx(klass: TrainingClass, people) -> bytes:
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == klass.module_id))
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    essays: dict[int, list[Decimal]] = defaultdict(list)
    if quiz is not None:
        roster_ids = select(Enrolment.user_id).where(
            Enrolment.class_id == klass.id, Enrolment.is_active
        )
        found = db.session.scalars(
            select(Attempt)
            .where(Attempt.quiz_id == quiz.id, Attempt.user_id.in_(roster_ids))
            .order_by(Attempt.user_id, Attempt.number)
        ).all()
        for attempt in found:
            attempts[attempt.user_id].append(attempt)
        by_attempt = {a.id: a.user_id for a in found}
        if by_attempt:
            marks = db.session.execute(
                select(AttemptItem.attempt_id, AttemptItem.fraction)
                .where(
                    AttemptItem.attempt_id.in_(
                        select(Attempt.id).where(
                            Attempt.quiz_id == quiz.id, Attempt.user_id.in_(roster_ids)
                        )
                    ),
                    AttemptItem.snapshot["kind"].as_string() == "essay",
                    AttemptItem.fraction.is_not(None),
                )
                .order_by(AttemptItem.attempt_id, AttemptItem.position)
            ).all()
            for attempt_id, fraction in marks:
                essays[by_attempt[attempt_id]].append(Decimal(str(fraction)) * 10)
    book = XlsxBook()
    sheet = book.sheet(
        "Kết quả kiểm tra",
        (
            ("STT", 6),
            ("Họ và tên", 28),
            ("Ngày sinh", 12),
            ("Đơn vị", 30),
            ("Số lần làm bài", 10),
            ("Điểm các lần", 22),
            ("Kết quả bài kiểm tra", 12),
            ("Điểm bài thu hoạch", 12),
            ("Xếp loại", 12),
            ("Đạt", 8),
        ),
    )
    _title_block(sheet, "KẾT QUẢ KIỂM TRA", klass)
    for index, (user, _at) in enumerate(people, start=1):
        mine = [a for a in attempts.get(user.id, []) if a.state != AttemptState.in_progress]
        graded = [a.score for a in mine if a.state == AttemptState.graded and a.score is not None]
        result = result_of(quiz, mine) if quiz is not None else None
        essay = essays.get(user.id)
        essay_mark = (
            (sum(essay, Decimal(0)) / len(essay)).quantize(Decimal("0.01")) if essay else None
        )
        passed = "" if result is None else ("Đạt" if result >= quiz.pass_mark else "Không đạt")
        sheet.row(
            [
                index,
                user.full_name,
                user.birth_date,
                _unit_name(user),
                len(mine),
                "; ".join(format_number(s, 2, locale="vi") for s in graded),
                result,
                essay_mark,
                grade_band(result) if result is not None else "",
                passed,
            ],
            ("0", None, None, None, "0", None, "0.00", "0.00"),
        )
    if quiz is not None:
        sheet.line()
        sheet.line(
            f"Bài kiểm tra: {quiz.title}. "
            f"Điểm đạt: {format_number(quiz.pass_mark, 2, locale='vi')}/10; "
            "kết quả tính theo cách chấm của bài kiểm tra."
        )
    return book.save()


def completions_xlsx(klass: TrainingClass, people) -> bytes:
    # The class's completion records (reports.records, the one definition), the completed
    # ones, in the roster's order.
    stmt = records.statement(records.Filters(class_id=klass.id, status=records.COMPLETED), None)
    done = {row.user_id: row for row in db.session.execute(stmt)}
    book = XlsxBook()
    sheet = book.sheet(
        "Hoàn thành",
        (
            ("STT", 6),
            ("Họ và tên", 28),
            ("Ngày sinh", 12),
            ("Đơn vị", 30),
            ("Ngày hoàn thành", 14),
            ("Điểm", 8),
            ("Xếp loại", 12),
            ("Tỷ lệ chuyên cần", 12),
            ("Giấy chứng nhận", 22),
        ),
    )
    _title_block(sheet, "DANH SÁCH HỌC VIÊN HOÀN THÀNH", klass)
    index = 0
    for user, _at in people:
        record = done.get(user.id)
        if record is None:
            continue
        index += 1
        score = None if record.score is None else Decimal(str(record.score))
        sheet.row(
            [
                index,
                record.full_name,
                record.birth_date,
                record.unit_name or "",
                to_local(record.completed_at).date(),
                score,
                grade_band(score) if score is not None else "",
                Decimal(str(record.attendance_share)),
                record.certificate_no or "",
            ],
            ("0", None, None, None, None, "0.00", None, "0.0%"),
        )
    sheet.line()
    sheet.line(f"Tổng số: {index}/{len(people)} học viên hoàn thành.")
    return book.save()


def _certificates(klass: TrainingClass) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.class_id == klass.id)
            .options(
                selectinload(Certificate.supersedes),
                selectinload(Certificate.refers_to),
                selectinload(Certificate.issuer),
            )
            .order_by(Certificate.year, Certificate.register_no, Certificate.id)
        )
    )


def register_xlsx(klass: TrainingClass, rows: list) -> bytes:
    book = XlsxBook()
    sheet = book.sheet("Sổ cấp GCN", register.XLSX_COLUMNS)
    _title_block(sheet, "SỔ CẤP GIẤY CHỨNG NHẬN CỦA LỚP", klass)
    for row in rows:
        sheet.row(
            [
                row.register_no,
                row.number_label,
                row.serial,
                row.kind,
                row.full_name,
                row.birth_date,
                row.unit,
                row.class_code,
                row.issued_on,
                row.score,
                row.band,
                row.status,
                row.note,
            ],
            ("0", None, None, None, None, None, None, None, None, "0.00"),
        )
    return book.save()


def _issuer(klass: TrainingClass, certs: list[Certificate]) -> Issuer | None:
    """The register's issuing unit (None: the default one), without creating anything (a GET)."""
    issuer = certs[0].issuer if certs else None
    if issuer is None and klass.issuer_id is not None:
        issuer = db.session.get(Issuer, klass.issuer_id)
    return issuer


def register_pdf(klass: TrainingClass, certs: list[Certificate], rows: list) -> bytes:
    years = sorted({c.year for c in certs}) or [klass.ends_on.year]
    year = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
    return pdf.render(
        "certificates/register_pdf.html",
        f=document_frame(_issuer(klass, certs), kind="register", copies=()),
        year=year,
        summary=f"Lớp: {klass.code} · {klass.title}",
        printed_on=format_date(today()),
        rows=[row.strings() for row in rows],
    )


def feedback_xlsx(klass: TrainingClass) -> bytes:
    """The anonymous summary of the learners' evaluations (classes.feedback.summary): the
    number of answers, the mean of each mark and the comments, never who wrote them; only the
    number below feedback.MIN_RESPONSES answers."""
    summary = feedback.summary(klass)
    book = XlsxBook()
    sheet = book.sheet("Phiếu đánh giá", (("Tiêu chí", 40), ("Điểm trung bình (1–5)", 20)))
    sheet.line("TỔNG HỢP PHIẾU ĐÁNH GIÁ KHÓA HỌC", bold=True, size=14)
    sheet.line(klass.title, bold=True)
    sheet.line(f"Mã lớp: {klass.code}")
    sheet.line(f"Số phiếu đã nhận: {summary.responses} / {summary.learners} học viên")
    sheet.line("Phiếu không ghi tên.")
    if not summary.shown:
        sheet.line(
            f"Kết quả chỉ được tổng hợp khi lớp có từ {feedback.MIN_RESPONSES} phiếu trở lên."
        )
        return book.save()
    sheet.line()
    sheet.header()
    labels = ("Nội dung chương trình", "Giảng viên", "Công tác tổ chức lớp")
    for label, name in zip(labels, feedback.CRITERIA, strict=True):
        sheet.row([label, summary.means[name]], (None, "0.00"))
    sheet.line()
    sheet.line("Góp ý của học viên", bold=True)
    for comment in summary.comments:
        sheet.line(comment)
    return book.save()


def build(klass: TrainingClass) -> bytes:
    """The dossier as ZIP bytes (the spreadsheets and the PDF are compressed already)."""
    people = _roster(klass)
    certs = _certificates(klass)
    with force_locale("vi"):
        rows = register._rows(certs)
        files = {
            ROSTER: roster_xlsx(klass, people),
            ATTENDANCE: attendance_xlsx(klass, people),
            SCORES: scores_xlsx(klass, people),
            COMPLETIONS: completions_xlsx(klass, people),
            REGISTER_XLSX: register_xlsx(klass, rows),
            FEEDBACK: feedback_xlsx(klass),
        }
        if len(rows) > register.PDF_MAX_ROWS:
            files[REGISTER_NOTE] = (
                f"Sổ của lớp có {len(rows)} dòng, quá {register.PDF_MAX_ROWS} dòng để in PDF; "
                f"xem tệp {REGISTER_XLSX}.\n"
            ).encode()
        else:
            try:
                files[REGISTER_PDF] = register_pdf(klass, certs, rows)
            except pdf.RenderTimeout:
                current_app.logger.warning("dossier register PDF timed out: %s", klass.code)
                files[REGISTER_NOTE] = (f"Tạo tệp PDF quá lâu; xem tệp {REGISTER_XLSX}.\n").encode()
    buffer = io.BytesIO()
    root = folder(klass)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(f"{root}/{name}", data)
    return buffer.getvalue()
