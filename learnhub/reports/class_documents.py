"""The documents of a class's life (Nghị định 30/2020 layout), built from the class as plain
values: the decision to open it, the summons (per learner, per unit), the class list, the
per-session sign-in list, and the decision recognising completion with its annex. Each renders
to PDF (learnhub.pdf) and to an editable DOCX (learnhub.docx) from the same Document.

Legal bases: the decisions cite only generic bases (the agency's functions, the programme, the
year's training plan) and leave "Theo đề nghị của …" to fill in, because the project's content
cites no training decree as the one in force for every class; offices add theirs in the DOCX.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learnhub import db, docx, pdf
from learnhub.accounts.models import User
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate, Issuer, Kind, Status
from learnhub.classes import services as classes
from learnhub.classes.models import FORMAT_LABELS, ClassSession, TrainingClass
from learnhub.documents import MOTTO, NATION, Document, Page, Paragraph, Signer, Table
from learnhub.textutil import collation_key
from learnhub.timeutil import place_date


class UnknownDocument(LookupError):
    """No such document, or not for this class (a session or a learner of another class)."""


def _day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "……/……/……"


def _place_date(issuer: Issuer, day: date | None, year: int) -> str:
    """The place-and-date line, or one with the day and month left to fill in."""
    if day is None:
        return f"{issuer.place}, ngày …… tháng …… năm {year}"
    return place_date(issuer.place, day)


def _number(kind: str, issuer: Issuer) -> str:
    """The number line, "Số: …/QĐ-SNV": the number is given when the document is registered, so
    it is left blank unless a pattern is configured (CLASS_DOCUMENT_NUMBER: {kind}, {issuer})."""
    blank = "Số: …/{kind}-{issuer}"
    try:
        return (current_app.config["CLASS_DOCUMENT_NUMBER"] or blank).format(
            kind=kind, issuer=issuer.code
        )
    except (KeyError, IndexError, ValueError):  # a mistyped pattern: the blank line, not a 500
        return blank.format(kind=kind, issuer=issuer.code)


@dataclass(frozen=True)
class Context:
    """What every document of one class needs, read once."""

    training_class: TrainingClass
    issuer: Issuer
    learners: list[User]
    module_title: str
    periods: int

    @property
    def c(self) -> TrainingClass:
        return self.training_class

    @property
    def signer(self) -> Signer:
        i = self.issuer
        return Signer(i.signer_authority, i.signer_for, i.signer_title, i.signer_name)

    @property
    def decider(self) -> str:
        """The head who decides ("GIÁM ĐỐC SỞ NỘI VỤ"): whose authority the signer uses."""
        head = self.issuer.signer_for if self.issuer.signer_authority else ""
        return f"{head or self.issuer.signer_title} {self.issuer.name}".strip()

    @property
    def year(self) -> int:
        return (self.c.decision_on or self.c.starts_on).year

    @property
    def period(self) -> str:
        return f"từ ngày {_day(self.c.starts_on)} đến ngày {_day(self.c.ends_on)}"

    @property
    def what(self) -> str:
        """The class as a sentence names it: "lớp bồi dưỡng … (mã lớp …)"."""
        title = self.c.title
        title = "lớp" + title[3:] if title[:3].lower() == "lớp" else f"lớp {title}"
        return f"{title} (mã lớp {self.c.code})"

    @property
    def opening(self) -> str:
        """The decision that opened the class, as later documents cite it."""
        if not self.c.decision_no:
            return ""
        on = f" ngày {_day(self.c.decision_on)}" if self.c.decision_on else ""
        return f"Quyết định số {self.c.decision_no}{on}"

    def document(self, title: str, pages: list[Page]) -> Document:
        return Document(self.issuer.parent_name, self.issuer.name, title, tuple(pages))


def context(training_class: TrainingClass) -> Context:
    """Read the class, its issuer (the class's, else the default one) and its roster."""
    issuer = training_class.issuer if training_class.issuer_id else None
    version = training_class.version or training_class.module.published_version
    return Context(
        training_class=training_class,
        issuer=issuer or certificates.default_issuer(),
        learners=classes.roster(training_class),
        module_title=version.title if version else training_class.title,
        periods=training_class.total_periods or training_class.module_periods or 0,
    )


def _unit_name(user: User) -> str:
    return user.unit.name if user.unit else ""


def _learner_table(learners: list[User]) -> Table:
    return Table(
        ("STT", "Họ và tên", "Ngày sinh", "Chức vụ", "Đơn vị công tác"),
        tuple(
            (
                str(n),
                u.full_name,
                _day(u.birth_date) if u.birth_date else "",
                u.position,
                _unit_name(u),
            )
            for n, u in enumerate(learners, start=1)
        ),
        (7, 28, 15, 20, 30),
    )


_GENERIC_BASES = ("Căn cứ chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức của cơ quan;",)


def opening_decision(ctx: Context) -> Document:
    """Quyết định mở lớp, with the class list annexed."""
    c = ctx.c
    number = f"Số: {c.decision_no}" if c.decision_no else _number("QĐ", ctx.issuer)
    trainers = ", ".join(t.full_name for t in c.trainers)
    article1 = (
        f"Mở {ctx.what}, chuyên đề “{ctx.module_title}”, thời lượng {ctx.periods} tiết, "
        f"{ctx.period}, hình thức {str(FORMAT_LABELS.get(c.format, c.format)).lower()}"
        + (f", tại {c.place}" if c.place else "")
        + f". Số học viên: {len(ctx.learners)} người (danh sách kèm theo)."
    )
    blocks = [
        *(Paragraph(b, "basis") for b in _GENERIC_BASES),
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
        place_date=_place_date(ctx.issuer, c.decision_on, ctx.year),
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
                f"(Kèm theo Quyết định {number.removeprefix('Số: ')} về việc mở lớp)", "note"
            ),
            _learner_table(ctx.learners),
        ),
    )
    return ctx.document(f"Quyết định mở lớp {c.code}", [decision, annex])


def _attend(ctx: Context) -> str:
    c = ctx.c
    first = c.sessions[0] if c.sessions else None
    when = f"{first.starts_at:%H} giờ {first.starts_at:%M}, ngày {_day(first.on)}" if first else ""
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
            number=_number("GTT", ctx.issuer),
            place_date=_place_date(ctx.issuer, ctx.c.decision_on, ctx.year),
            blocks=(
                *([Paragraph(f"Căn cứ {ctx.opening};", "basis")] if ctx.opening else []),
                Paragraph("Triệu tập:", "body"),
                Paragraph(f"Ông/Bà: {u.full_name}", "body"),
                Paragraph(f"Chức vụ: {u.position or '……'}", "body"),
                Paragraph(f"Đơn vị công tác: {_unit_name(u) or '……'}", "body"),
                Paragraph(_attend(ctx), "body"),
                Paragraph(
                    "Đề nghị Thủ trưởng cơ quan, đơn vị tạo điều kiện để ông/bà "
                    f"{u.full_name} tham dự đầy đủ khóa học.",
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
    order = sorted(by_unit, key=lambda k: collation_key(_unit_name(by_unit[k][0])))
    pages = []
    for key in order:
        people = by_unit[key]
        name = _unit_name(people[0]) or "Thủ trưởng cơ quan, đơn vị"
        table = Table(
            ("STT", "Họ và tên", "Chức vụ"),
            tuple((str(n), u.full_name, u.position) for n, u in enumerate(people, start=1)),
            (10, 50, 40),
        )
        pages.append(
            Page(
                kind="GIẤY TRIỆU TẬP",
                subject=f"Tham dự {ctx.what.split(' (mã lớp')[0]}",
                number=_number("GTT", ctx.issuer),
                place_date=_place_date(ctx.issuer, ctx.c.decision_on, ctx.year),
                recipient=name,
                blocks=(
                    *([Paragraph(f"Căn cứ {ctx.opening};", "basis")] if ctx.opening else []),
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


def class_list(ctx: Context) -> Document:
    """Danh sách học viên."""
    c = ctx.c
    page = Page(
        kind="DANH SÁCH HỌC VIÊN",
        subject=c.title,
        place_date=_place_date(ctx.issuer, c.decision_on, ctx.year),
        blocks=(
            *(
                [Paragraph(f"(Kèm theo {ctx.opening} về việc mở lớp)", "note")]
                if ctx.opening
                else []
            ),
            Paragraph(f"Mã lớp: {c.code}. Thời gian: {ctx.period}.", "body"),
            _learner_table(ctx.learners),
            Paragraph(f"Tổng số: {len(ctx.learners)} học viên.", "body"),
        ),
        signer=ctx.signer,
    )
    return ctx.document(f"Danh sách học viên {c.code}", [page])


def _session_page(ctx: Context, s: ClassSession) -> Page:
    rows = tuple(
        (str(n), u.full_name, _unit_name(u), u.position, "")
        for n, u in enumerate(ctx.learners, start=1)
    )
    topic = f": {s.topic}" if s.topic else ""
    return Page(
        kind="DANH SÁCH HỌC VIÊN KÝ TÊN",
        subject=ctx.c.title,
        place_date=_place_date(ctx.issuer, s.on, s.on.year),
        blocks=(
            Paragraph(
                f"Buổi {s.number}{topic}, ngày {_day(s.on)}, từ {s.starts_at:%H:%M} đến "
                f"{s.ends_at:%H:%M} ({s.periods} tiết). Mã lớp: {ctx.c.code}."
                + (f" Địa điểm: {ctx.c.place}." if ctx.c.place else ""),
                "body",
            ),
            Table(("STT", "Họ và tên", "Đơn vị", "Chức vụ", "Ký tên"), rows, (7, 30, 30, 18, 15)),
            Paragraph(f"Tổng số học viên: {len(ctx.learners)}; có mặt: ……; vắng mặt: …….", "body"),
        ),
        signer=Signer(title="XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC"),
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
    number = _number("QĐ", ctx.issuer)
    bases = [Paragraph(b, "basis") for b in _GENERIC_BASES]
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
        place_date=_place_date(ctx.issuer, issued_on, (issued_on or c.ends_on).year),
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
            _day(date.fromisoformat(cert.data["birth_date"]))
            if cert.data.get("birth_date")
            else "",
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
                f"(Kèm theo Quyết định {number.removeprefix('Số: ')} ngày "
                f"{_day(issued_on) if issued_on else '……/……/……'} của {ctx.issuer.name})",
                "note",
            ),
            Table(
                (
                    "STT",
                    "Họ và tên",
                    "Ngày sinh",
                    "Đơn vị công tác",
                    "Xếp loại",
                    "Số vào sổ",
                    "Số hiệu",
                ),
                rows,
                (5, 20, 11, 22, 9, 18, 15),
            ),
            Paragraph(f"Tổng số: {len(certs)} học viên.", "body"),
        ),
    )
    return ctx.document(f"Quyết định công nhận hoàn thành {c.code}", [decision, annex])


#: The documents by their URL name: a builder taking the context and the optional argument.
KINDS: dict[str, Callable[..., Document]] = {
    "quyet-dinh-mo-lop": lambda ctx, arg: opening_decision(ctx),
    "giay-trieu-tap": summons_per_learner,
    "giay-trieu-tap-don-vi": summons_per_unit,
    "danh-sach-hoc-vien": lambda ctx, arg: class_list(ctx),
    "danh-sach-ky-ten": signin_lists,
    "quyet-dinh-cong-nhan": lambda ctx, arg: completion_decision(ctx),
}

#: Link labels, in the order the class's life runs.
LABELS = {
    "quyet-dinh-mo-lop": _l("Quyết định mở lớp"),
    "giay-trieu-tap": _l("Giấy triệu tập (từng học viên)"),
    "giay-trieu-tap-don-vi": _l("Giấy triệu tập (gửi đơn vị)"),
    "danh-sach-hoc-vien": _l("Danh sách học viên"),
    "danh-sach-ky-ten": _l("Danh sách học viên ký tên (các buổi)"),
    "quyet-dinh-cong-nhan": _l("Quyết định công nhận hoàn thành và cấp giấy chứng nhận"),
}


def pdf_bytes(doc: Document) -> bytes:
    """The document as PDF (templates/documents/document.html)."""
    return pdf.render("documents/document.html", doc=doc, nation=NATION, motto=MOTTO)


def docx_bytes(doc: Document) -> bytes:
    """The document as an editable DOCX."""
    return docx.render(doc)


def build(training_class: TrainingClass, kind: str, arg: int | None = None) -> Document:
    """The document *kind* of the class; raises UnknownDocument."""
    if kind not in KINDS:
        raise UnknownDocument(kind)
    return KINDS[kind](context(training_class), arg)
