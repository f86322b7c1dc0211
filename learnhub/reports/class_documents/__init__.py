"""The documents of a class's life (Nghị định 30/2020 layout), built from the class as plain
values: the decision to open it, the summons (per learner, per unit), the class list, the
per-session sign-in list, and the decision recognising completion with its annex. Each renders
to PDF (learnhub.pdf) and to an editable DOCX (learnhub.docx) from the same Document.

Legal bases: the decisions cite only generic bases (the agency's functions, the programme, the
year's training plan) and leave "Theo đề nghị của …" to fill in, because the project's content
cites no training decree as the one in force for every class; offices add theirs in the DOCX.
"""

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from learnhub import docx, pdf
from learnhub.certificates.frame import Frame
from learnhub.certificates.frame import Signer as FrameSigner
from learnhub.classes.models import TrainingClass
from learnhub.documents import Document, Page
from learnhub.reports.class_documents.common import UnknownDocument, context
from learnhub.reports.class_documents.decisions import completion_decision, opening_decision
from learnhub.reports.class_documents.lists import class_list, signin_lists
from learnhub.reports.class_documents.summons import summons_per_learner, summons_per_unit

__all__ = ["KINDS", "LABELS", "UnknownDocument", "build", "docx_bytes", "pdf_bytes"]

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


def page_frame(doc: Document, page: Page) -> Frame:
    """The shared frame's values (templates/_pdf/frame.html) for one page of the document: the
    Document already carries its issuer's agency, number, place and date, Kính gửi, signer and
    Nơi nhận, so the PDF prints exactly what the DOCX prints."""
    s = page.signer
    return Frame(
        parent=doc.parent,
        agency=doc.agency,
        place="",
        place_date=page.place_date,
        signer=FrameSigner(title=s.title, name=s.name, authority=s.authority, for_=s.signer_for)
        if s
        else FrameSigner(title=""),
        number=page.number,
        recipients=(page.recipient,) if page.recipient else (),
        copies=page.recipients,
    )


def pdf_bytes(doc: Document) -> bytes:
    """The document as PDF (templates/documents/document.html, in the shared frame)."""
    frames = [page_frame(doc, page) for page in doc.pages]
    return pdf.render("documents/document.html", doc=doc, frames=frames)


def docx_bytes(doc: Document) -> bytes:
    """The document as an editable DOCX."""
    return docx.render(doc)


def build(training_class: TrainingClass, kind: str, arg: int | None = None) -> Document:
    """The document *kind* of the class; raises UnknownDocument."""
    if kind not in KINDS:
        raise UnknownDocument(kind)
    return KINDS[kind](context(training_class), arg)
