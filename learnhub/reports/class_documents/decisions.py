"""The decisions: to open the class (with the class list annexed), and to recognise completion
and issue certificates (with the annex of learners, register numbers and serials)."""

from datetime import date

from sqlalchemy import select

from learnhub import db
from learnhub.accounts.models import sex_label
from learnhub.certificates.models import Certificate, Kind, Status
from learnhub.classes.models import FORMAT_LABELS
from learnhub.documents import Document, Page, Paragraph, Table
from learnhub.reports.class_documents.common import (
    GENERIC_BASES,
    Context,
    day,
    learner_table,
    number_line,
    place_date_line,
)


def opening_decision(ctx: Context) -> Document:
    """Quyết định mở lớp, with the class list annexed."""
    c = ctx.c
    number = f"Số: {c.decision_no}" if c.decision_no else number_line("QĐ", ctx.issuer)
    trainers = ", ".join(t.full_name for t in c.trainers)
    article1 = (
        f"Mở {ctx.what}, chuyên đề “{ctx.module_title}”, thời lượng {ctx.periods} tiết, "
        f"{ctx.period}, hình thức {str(FORMAT_LABELS.get(c.format, c.format)).lower()}"
        + (f", tại {c.place}" if c.place else "")
        + f". Số học viên: {len(ctx.learners)} người (danh sách kèm theo)."
    )
    blocks = [
        *(Paragraph(b, "basis") for b in GENERIC_BASES),
        Paragraph(f"Căn cứ chương trình bồi dưỡng “{ctx.module_title}”;", "basis"),
        Paragraph(
            f"Căn cứ kế hoạch đào tạo, bồi dưỡng cán bộ, công chức, viên chức năm {ctx.year};",
            "basis",
        ),
        Paragraph("Theo đề nghị của ……………………………….", "basis"),
        Paragraph("QUYẾT ĐỊNH:", "centre"),
        Paragraph(article1, "article", "Điều 1."),
    ]
    if trainers:
        blocks.append(Paragraph(f"Giảng viên: {trainers}.", "body"))
    if c.organisers:
        blocks.append(Paragraph(f"Đơn vị tổ chức: {c.organisers}.", "body"))
    blocks += [
        Paragraph(
            "Học viên tham gia học tập đầy đủ, hoàn thành các bài kiểm tra đạt yêu cầu được cấp "
            "giấy chứng nhận hoàn thành khóa học. Quyết định này có hiệu lực kể từ ngày ký.",
            "article",
            "Điều 2.",
        ),
        Paragraph(
            "Thủ trưởng các cơ quan, đơn vị có liên quan và các ông, bà có tên trong danh sách "
            "kèm theo chịu trách nhiệm thi hành Quyết định này.",
            "article",
            "Điều 3.",
        ),
    ]
    decision = Page(
        kind="QUYẾT ĐỊNH",
        subject=f"Về việc mở {ctx.what.split(' (mã lớp')[0]}",
        number=number,
        place_date=place_date_line(ctx.issuer, c.decision_on, ctx.year),
        decider=ctx.decider,
        blocks=tuple(blocks),
        signer=ctx.signer,
        recipients=("Như Điều 3;", "Lưu: VT, …"),
    )
    annex = Page(
        kind="DANH SÁCH HỌC VIÊN",
        subject=c.title,
        header=False,
        above=("Phụ lục",),
        blocks=(
            Paragraph(
                f"(Kèm theo Quyết định số {number.removeprefix('Số: ')} về việc mở lớp)", "note"
            ),
            learner_table(ctx.learners),
        ),
    )
    return ctx.document(f"Quyết định mở lớp {c.code}", [decision, annex])


def completed(ctx: Context) -> list[Certificate]:
    """The class's valid certificates (the learners recognised as having completed it)."""
    stmt = select(Certificate).where(
        Certificate.class_id == ctx.c.id,
        Certificate.kind == Kind.certificate,
        Certificate.status == Status.valid,
    )
    return sorted(db.session.scalars(stmt), key=lambda cert: cert.user.given_name_key)


def completion_decision(ctx: Context) -> Document:
    """Quyết định công nhận hoàn thành và cấp giấy chứng nhận, with its annex."""
    c = ctx.c
    certs = completed(ctx)
    issued_on = max((cert.issued_on for cert in certs), default=None)
    number = number_line("QĐ", ctx.issuer)
    bases = [Paragraph(b, "basis") for b in GENERIC_BASES]
    if ctx.opening:
        bases.append(Paragraph(f"Căn cứ {ctx.opening} về việc mở {ctx.what};", "basis"))
    bases += [
        Paragraph("Căn cứ kết quả học tập của học viên;", "basis"),
        Paragraph("Theo đề nghị của ……………………………….", "basis"),
    ]
    decision = Page(
        kind="QUYẾT ĐỊNH",
        subject="Về việc công nhận hoàn thành khóa học và cấp giấy chứng nhận",
        number=number,
        place_date=place_date_line(ctx.issuer, issued_on, (issued_on or c.ends_on).year),
        decider=ctx.decider,
        blocks=(
            *bases,
            Paragraph("QUYẾT ĐỊNH:", "centre"),
            Paragraph(
                f"Công nhận {len(certs)} học viên hoàn thành {ctx.what}, chuyên đề "
                f"“{ctx.module_title}”, thời lượng {ctx.periods} tiết, {ctx.period}, và cấp "
                "giấy chứng nhận (danh sách kèm theo).",
                "article",
                "Điều 1.",
            ),
            Paragraph("Quyết định này có hiệu lực kể từ ngày ký.", "article", "Điều 2."),
            Paragraph(
                "Thủ trưởng các cơ quan, đơn vị có liên quan và các ông, bà có tên tại Điều 1 "
                "chịu trách nhiệm thi hành Quyết định này.",
                "article",
                "Điều 3.",
            ),
        ),
        signer=ctx.signer,
        recipients=("Như Điều 3;", "Lưu: VT, …"),
    )
    rows = tuple(
        (
            str(n),
            cert.data.get("full_name", cert.user.full_name),
            day(date.fromisoformat(cert.data["birth_date"])) if cert.data.get("birth_date") else "",
            # As recorded at issue; a certificate issued before sex was recorded: the account's.
            sex_label(cert.data.get("sex", cert.user.sex)),
            cert.data.get("unit", ""),
            cert.data.get("band", ""),
            cert.number_label,
            cert.serial,
        )
        for n, cert in enumerate(certs, start=1)
    )
    annex = Page(
        kind="DANH SÁCH HỌC VIÊN HOÀN THÀNH KHÓA HỌC VÀ ĐƯỢC CẤP GIẤY CHỨNG NHẬN",
        subject=c.title,
        header=False,
        above=("Phụ lục",),
        landscape=True,
        blocks=(
            Paragraph(
                f"(Kèm theo Quyết định số {number.removeprefix('Số: ')} ngày "
                f"{day(issued_on) if issued_on else '……/……/……'})",
                "note",
            ),
            Table(
                (
                    "STT",
                    "Họ và tên",
                    "Ngày sinh",
                    "Giới tính",
                    "Đơn vị công tác",
                    "Xếp loại",
                    "Số vào sổ",
                    "Số hiệu",
                ),
                rows,
                (5, 16, 10, 7, 17, 8, 18, 19),
                nowrap=(6, 7),  # the register number and the serial, each on one line
            ),
            Paragraph(f"Tổng số: {len(certs)} học viên.", "body"),
        ),
    )
    return ctx.document(f"Quyết định công nhận hoàn thành {c.code}", [decision, annex])


#: The documents by their URL name: a builder taking the context and the optional argument.
