"""The class list and the learners' signature list per session."""

from dataclasses import replace

from learnhub.classes.models import ClassSession
from learnhub.documents import Document, Page, Paragraph, Table
from learnhub.reports.class_documents.common import (
    Context,
    UnknownDocument,
    day,
    learner_table,
    place_date_line,
    unit_name,
)


def class_list(ctx: Context) -> Document:
    """Danh sách học viên."""
    c = ctx.c
    page = Page(
        kind="DANH SÁCH HỌC VIÊN",
        subject=c.title,
        place_date=place_date_line(ctx.issuer, c.decision_on, ctx.year),
        blocks=(
            *(
                [Paragraph(f"(Kèm theo {ctx.opening} về việc mở lớp)", "note")]
                if ctx.opening
                else []
            ),
            Paragraph(f"Mã lớp: {c.code}. Thời gian: {ctx.period}.", "body"),
            learner_table(ctx.learners),
            Paragraph(f"Tổng số: {len(ctx.learners)} học viên.", "body"),
        ),
        signer=ctx.signer,
    )
    return ctx.document(f"Danh sách học viên {c.code}", [page])


def _session_page(ctx: Context, s: ClassSession) -> Page:
    rows = tuple(
        (str(n), u.full_name, unit_name(u), u.position, "")
        for n, u in enumerate(ctx.learners, start=1)
    )
    topic = f": {s.topic}" if s.topic else ""
    c = ctx.c
    # Dated by the session it is signed at (never the day it is printed); the head of the
    # organising agency confirms it, the person who drew it up signs on the left.
    return Page(
        kind="DANH SÁCH HỌC VIÊN KÝ TÊN",
        subject=c.title,
        place_date=place_date_line(ctx.issuer, s.on, s.on.year),
        blocks=(
            Paragraph(
                f"Mã lớp: {c.code}"
                + (f"; {ctx.opening} về việc mở lớp" if ctx.opening else "")
                + ".",
                "body",
            ),
            Paragraph(
                f"Thời gian: {ctx.period}" + (f"; Địa điểm: {c.place}" if c.place else "") + ".",
                "body",
            ),
            *([Paragraph(f"Đơn vị tổ chức: {c.organisers}.", "body")] if c.organisers else []),
            Paragraph(
                f"Buổi {s.number}{topic}, ngày {day(s.on)}, từ {s.starts_at:%H:%M} đến "
                f"{s.ends_at:%H:%M} ({s.periods} tiết).",
                "body",
            ),
            Table(("STT", "Họ và tên", "Đơn vị", "Chức vụ", "Ký tên"), rows, (7, 30, 30, 18, 15)),
            Paragraph(f"Tổng số: {len(ctx.learners)} học viên. Có mặt: ……; vắng mặt: …….", "body"),
        ),
        signer=replace(ctx.signer, heading="XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC"),
        maker="NGƯỜI LẬP DANH SÁCH",
    )


def signin_lists(ctx: Context, session_number: int | None = None) -> Document:
    """Danh sách học viên ký tên: one page per session (or the one session asked for)."""
    sessions = [
        s for s in ctx.c.own_sessions if session_number is None or s.number == session_number
    ]
    if session_number is not None and not sessions:
        raise UnknownDocument(session_number)
    pages = [_session_page(ctx, s) for s in sessions]
    return ctx.document(f"Danh sách học viên ký tên {ctx.c.code}", pages)
