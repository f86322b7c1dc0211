"""The neutral shape of an official document (Nghị định 30/2020): plain values that the PDF
template (templates/documents/document.html) and the DOCX writer (learnhub.docx) both render,
so the two files of one document carry the same words, names, numbers and dates."""

from dataclasses import dataclass, field

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the body; *style* is body, basis (Căn cứ …, italic), article (Điều …,
    its first words bold), centre (bold, centred) or note (italic, centred)."""

    text: str
    style: str = "body"
    #: For an article: the bold lead ("Điều 1."), printed before the text.
    lead: str = ""


@dataclass(frozen=True)
class Table:
    """A bordered table: a header row and rows of text; widths are relative (they sum to 100)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]
    #: Columns whose cells never break (codes and numbers: "WMWMW-MWMWM", "002/2026/GCN-SNV").
    nowrap: tuple[int, ...] = ()


@dataclass(frozen=True)
class Signer:
    """The signature block: TM./KT./TL./TUQ. + whose authority, the title, the name; a
    *heading* above them when the block confirms ("XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC")."""

    authority: str = ""
    signer_for: str = ""
    title: str = ""
    name: str = ""
    heading: str = ""

    @property
    def lines(self) -> tuple[str, ...]:
        top = f"{self.authority} {self.signer_for}".strip() if self.authority else ""
        return tuple(line for line in (self.heading, top, self.title) if line)


@dataclass(frozen=True)
class Page:
    """One document (or an annex) starting on a new page."""

    kind: str  # "QUYẾT ĐỊNH", "GIẤY TRIỆU TẬP", "DANH SÁCH HỌC VIÊN", …
    subject: str = ""  # the trích yếu under the kind
    #: With the header (agency, Quốc hiệu, number, place and date) or without (an annex).
    header: bool = True
    number: str = ""  # "Số: …/QĐ-SNV"
    place_date: str = ""
    #: Lines above the kind on an annex ("Phụ lục", "(Kèm theo Quyết định số …)").
    above: tuple[str, ...] = ()
    #: The decider's line between the trích yếu and the Căn cứ ("GIÁM ĐỐC SỞ NỘI VỤ").
    decider: str = ""
    recipient: str = ""  # Kính gửi
    blocks: tuple[Paragraph | Table, ...] = ()
    signer: Signer | None = None
    recipients: tuple[str, ...] = ()  # Nơi nhận
    #: Who drew the page up ("NGƯỜI LẬP DANH SÁCH"), signing on the left where Nơi nhận would be.
    maker: str = ""
    landscape: bool = False


@dataclass(frozen=True)
class Document:
    """A file: the issuing agency (and its parent) and its pages."""

    parent: str
    agency: str
    title: str  # the file's title (metadata)
    pages: tuple[Page, ...] = field(default_factory=tuple)

    @property
    def landscape(self) -> bool:
        return any(page.landscape for page in self.pages)
