"""What every document of a class needs: the class, its issuer and roster read once, and the
helpers for dates, numbers and the learner table."""

from dataclasses import dataclass
from datetime import date

from flask import current_app

from learnhub import db
from learnhub.accounts.models import User, sex_label
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Issuer
from learnhub.classes import services as classes
from learnhub.classes.models import TrainingClass
from learnhub.documents import Document, Page, Signer, Table
from learnhub.timeutil import place_date


class UnknownDocument(LookupError):
    """No such document, or not for this class (a session or a learner of another class)."""


def day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "……/……/……"


def place_date_line(issuer: Issuer, day: date | None, year: int) -> str:
    """The place-and-date line, or one with the day and month left to fill in."""
    if day is None:
        return f"{issuer.place}, ngày …… tháng …… năm {year}"
    return place_date(issuer.place, day)


def number_line(kind: str, issuer: Issuer) -> str:
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
        return f"từ ngày {day(self.c.starts_on)} đến ngày {day(self.c.ends_on)}"

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
        on = f" ngày {day(self.c.decision_on)}" if self.c.decision_on else ""
        return f"Quyết định số {self.c.decision_no}{on}"

    def document(self, title: str, pages: list[Page]) -> Document:
        return Document(self.issuer.parent_name, self.issuer.name, title, tuple(pages))


def context(training_class: TrainingClass) -> Context:
    """Read the class, its issuer (the class's, else the default one) and its roster."""
    issuer = db.session.get(Issuer, training_class.issuer_id) if training_class.issuer_id else None
    version = training_class.version or training_class.module.published_version
    return Context(
        training_class=training_class,
        issuer=issuer or certificates.default_issuer(),
        learners=classes.roster(training_class),
        module_title=version.title if version else training_class.title,
        periods=training_class.total_periods or training_class.module_periods or 0,
    )


def unit_name(user: User) -> str:
    return user.unit.name if user.unit else ""


def learner_table(learners: list[User]) -> Table:
    return Table(
        ("STT", "Họ và tên", "Ngày sinh", "Giới tính", "Chức vụ", "Đơn vị công tác"),
        tuple(
            (
                str(n),
                u.full_name,
                day(u.birth_date) if u.birth_date else "",
                sex_label(u.sex),
                u.position,
                unit_name(u),
            )
            for n, u in enumerate(learners, start=1)
        ),
        (7, 26, 14, 10, 18, 25),
    )


GENERIC_BASES = ("Căn cứ chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức của cơ quan;",)
