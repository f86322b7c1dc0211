"""Giấy triệu tập: one per learner, or one per unit listing that unit's learners."""

from learnhub.accounts.models import User, salutation, sex_label
from learnhub.documents import Document, Page, Paragraph, Table
from learnhub.reports.class_documents.common import (
    Context,
    UnknownDocument,
    day,
    number_line,
    place_date_line,
    unit_name,
)
from learnhub.textutil import collation_key


def _bases(ctx: Context) -> list[Paragraph]:
    """The decision that opened the class, when it has one (the summons' only basis)."""
    return [Paragraph(f"Căn cứ {ctx.opening} về việc mở lớp.", "basis")] if ctx.opening else []


def _attend(ctx: Context) -> str:
    c = ctx.c
    first = c.sessions[0] if c.sessions else None
    when = f"{first.starts_at:%H} giờ {first.starts_at:%M}, ngày {day(first.on)}" if first else ""
    return (
        f"Tham dự {ctx.what}, chuyên đề “{ctx.module_title}” ({ctx.periods} tiết), {ctx.period}"
        + (f", tại {c.place}" if c.place else "")
        + "."
        + (f" Thời gian có mặt: {when}." if when else "")
    )


def summons_per_learner(ctx: Context, learner_id: int | None = None) -> Document:
    """Giấy triệu tập: one page per learner (or the one learner asked for)."""
    learners = [u for u in ctx.learners if learner_id is None or u.id == learner_id]
    if learner_id is not None and not learners:
        raise UnknownDocument(learner_id)
    pages = [
        Page(
            kind="GIẤY TRIỆU TẬP",
            subject=f"Tham dự {ctx.what.split(' (mã lớp')[0]}",
            number=number_line("GTT", ctx.issuer),
            place_date=place_date_line(ctx.issuer, ctx.c.decision_on, ctx.year),
            blocks=(
                *_bases(ctx),
                Paragraph("Triệu tập:", "body"),
                Paragraph(f"{salutation(u.sex)}: {u.full_name}", "body"),
                Paragraph(f"Chức vụ: {u.position or '……'}", "body"),
                Paragraph(f"Đơn vị công tác: {unit_name(u) or '……'}", "body"),
                Paragraph(_attend(ctx), "body"),
                Paragraph(
                    "Đề nghị Thủ trưởng cơ quan, đơn vị tạo điều kiện để "
                    f"{salutation(u.sex).lower()} {u.full_name} tham dự đầy đủ khóa học.",
                    "body",
                ),
            ),
            signer=ctx.signer,
            recipients=("Như trên;", "Thủ trưởng đơn vị (để biết);", "Lưu: VT."),
        )
        for u in learners
    ]
    return ctx.document(f"Giấy triệu tập {ctx.c.code}", pages)


def summons_per_unit(ctx: Context, unit_id: int | None = None) -> Document:
    """Giấy triệu tập sent to each unit, listing that unit's learners."""
    by_unit: dict[int | None, list[User]] = {}
    for user in ctx.learners:
        by_unit.setdefault(user.unit_id, []).append(user)
    if unit_id is not None:
        if unit_id not in by_unit:
            raise UnknownDocument(unit_id)
        by_unit = {unit_id: by_unit[unit_id]}
    order = sorted(by_unit, key=lambda k: collation_key(unit_name(by_unit[k][0])))
    pages = []
    for key in order:
        people = by_unit[key]
        name = unit_name(people[0]) or "Thủ trưởng cơ quan, đơn vị"
        table = Table(
            ("STT", "Họ và tên", "Giới tính", "Chức vụ"),
            tuple(
                (str(n), u.full_name, sex_label(u.sex), u.position)
                for n, u in enumerate(people, start=1)
            ),
            (8, 45, 12, 35),
        )
        pages.append(
            Page(
                kind="GIẤY TRIỆU TẬP",
                subject=f"Tham dự {ctx.what.split(' (mã lớp')[0]}",
                number=number_line("GTT", ctx.issuer),
                place_date=place_date_line(ctx.issuer, ctx.c.decision_on, ctx.year),
                recipient=name,
                blocks=(
                    *_bases(ctx),
                    Paragraph(
                        f"Triệu tập các ông, bà có tên sau đây ({len(people)} người):",
                        "body",
                    ),
                    table,
                    Paragraph(_attend(ctx), "body"),
                    Paragraph(
                        "Đề nghị Thủ trưởng cơ quan, đơn vị cử các ông, bà có tên trên tham dự "
                        "đầy đủ khóa học.",
                        "body",
                    ),
                ),
                signer=ctx.signer,
                recipients=("Như trên;", "Lưu: VT."),
            )
        )
    return ctx.document(f"Giấy triệu tập theo đơn vị {ctx.c.code}", pages)
