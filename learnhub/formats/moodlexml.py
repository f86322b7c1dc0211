"""Moodle XML question files (what Moodle's question bank exports by default), read and written.

Reads the types the quiz supports (multichoice, truefalse, shortanswer, numerical, matching,
essay, description) into the neutral `Question`, as Moodle's qformat_xml does; names by line every
question of a type LearnHub does not support (cloze, calculated, drag and drop, …) and skips it;
refuses a file Moodle refuses (answer grades that match none of Moodle's grade options, broken
Cloze questions) with the line and a Vietnamese message. The XML is read with expat, and any DTD
(so any entity) is refused: nothing is ever expanded or fetched.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from flask_babel import lazy_gettext as _l

from learnhub.formats.question import (
    BLANK,
    Answer,
    ParseError,
    Question,
    category_path,
    nfc,
)

#: Moodle's text formats in XML <-> GIFT's marker names.
FORMAT_NAMES = {"moodle_auto_format": "moodle", "html": "html", "plain_text": "plain"}
FORMAT_NAMES["markdown"] = "markdown"
XML_FORMATS = {name: xml for xml, name in FORMAT_NAMES.items()}
KIND_OF_TYPE = {
    "truefalse": "truefalse",
    "shortanswer": "short",
    "numerical": "numerical",
    "matching": "matching",
    "essay": "essay",
    "description": "description",
}
TYPE_OF_KIND = {kind: qtype for qtype, kind in KIND_OF_TYPE.items()}
TYPE_OF_KIND |= {"single": "multichoice", "multi": "multichoice"}
#: Moodle's grade options (question_bank::fraction_options_full), as fractions of 1.
GRADE_OPTIONS = (
    1,
    0.9,
    0.8333333,
    0.8,
    0.75,
    0.7,
    0.6666667,
    0.6,
    0.5,
    0.4,
    0.3333333,
    0.3,
    0.25,
    0.2,
    0.1666667,
    0.1428571,
    0.125,
    0.1111111,
    0.1,
    0.05,
    0,
)
#: LearnHub's legal references travel as Moodle tags with this prefix.
REF_TAG = "@ref "


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list["Element"] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def find(self, tag: str) -> "Element | None":
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list["Element"]:
        return [c for c in self.children if c.tag == tag]

    def value(self, *path: str) -> str:
        """The text of the <text> (or leaf) element at *path*, stripped; '' when absent."""
        node: Element | None = self
        for tag in path:
            node = node.find(tag) if node else None
        if node is None:
            return ""
        inner = node.find("text")
        return nfc((inner or node).text.strip())


class _Refused(Exception):
    pass


def read_tree(data: bytes | str) -> Element:
    """The document as Elements with line numbers; any DTD is refused (ParseError)."""
    parser = expat.ParserCreate()
    root = Element("", {}, 0)
    stack = [root]

    def start(tag, attrs):
        node = Element(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(_tag):
        stack.pop()

    def chars(text):
        stack[-1].chunks.append(text)

    def doctype(*_args):
        raise _Refused

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.buffer_text = True
    try:
        parser.Parse(data.encode() if isinstance(data, str) else data, True)
    except _Refused:
        raise ParseError(
            parser.CurrentLineNumber, _l("Tệp XML có khai báo DOCTYPE/thực thể; không thể đọc.")
        ) from None
    except expat.ExpatError as exc:
        raise ParseError(
            exc.lineno or 1,
            _l("Tệp không phải XML hợp lệ: %(reason)s", reason=expat.errors.messages[exc.code]),
        ) from None
    if not root.children or root.children[0].tag != "quiz":
        raise ParseError(1, _l("Tệp XML của Moodle phải bắt đầu bằng thẻ <quiz>."))
    return root.children[0]


@dataclass(frozen=True)
class Skipped:
    """A question read but not imported: its line, name and why."""

    line: int
    name: str
    reason: object


@dataclass
class Result:
    questions: list[Question] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: Categories the file declares, in file order (even those holding no question).
    categories: list[str] = field(default_factory=list)


def parse(data: bytes | str) -> Result:
    """Every question of a Moodle XML file, every problem (with its line), every skipped one."""
    result = Result()
    try:
        quiz = read_tree(data)
    except ParseError as exc:
        result.errors.append(exc)
        return result
    category = ""
    for node in quiz.findall("question"):
        qtype = node.attrs.get("type", "")
        if qtype == "category":
            category = category_path(node.value("category"))
            if category not in result.categories:
                result.categories.append(category)
            continue
        name = node.value("name")
        try:
            if qtype == "cloze":
                _check_cloze(node)
                result.skipped.append(Skipped(node.line, name, _l("Cloze chưa được hỗ trợ")))
            elif qtype == "multichoice" or qtype in KIND_OF_TYPE:
                result.questions.append(_question(node, qtype, category))
            else:
                reason = _l("loại câu hỏi %(type)s chưa được hỗ trợ", type=qtype or "?")
                result.skipped.append(Skipped(node.line, name, reason))
        except ParseError as exc:
            result.errors.append(exc)
    return result


def _fraction(node: Element, question: str) -> Decimal:
    raw = node.attrs.get("fraction", "0").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    # As Moodle with "match grades: error": a grade must be one of Moodle's grade options.
    if not value.is_finite() or not any(
        abs(abs(float(value)) / 100 - option) < 0.00001 for option in GRADE_OPTIONS
    ):
        raise ParseError(
            node.line,
            _l(
                "Điểm (%(grade)s) không khớp với các mức điểm của Moodle; câu hỏi '%(name)s' "
                "không được nhập.",
                grade=raw,
                name=question,
            ),
        )
    return value


def _answers(node: Element, name: str) -> list[tuple[Element, Decimal]]:
    return [(a, _fraction(a, name)) for a in node.findall("answer")]


def _question(node: Element, qtype: str, category: str) -> Question:
    name = node.value("name")
    text_node = node.find("questiontext")
    fmt = FORMAT_NAMES.get(text_node.attrs.get("format", "") if text_node else "", "html")
    text = node.value("questiontext")
    tags = [t.value("text") for t in (node.find("tags") or Element("", {}, 0)).findall("tag")]
    common = {
        "line": node.line,
        "name": name or text[:60],
        "text": text,
        "category": category,
        "text_format": fmt,
        "general_feedback": node.value("generalfeedback"),
        "refs": tuple(t.removeprefix(REF_TAG) for t in tags if t.startswith(REF_TAG)),
    }
    if not text:
        raise ParseError(node.line, _l("Câu hỏi '%(name)s' không có nội dung.", name=name))
    if qtype in ("essay", "description"):
        return Question(kind=KIND_OF_TYPE[qtype], **common)
    if qtype == "truefalse":
        truth, right, wrong = None, "", ""
        for answer, fraction in _answers(node, name):
            is_true = answer.value("text").lower() == "true"
            if fraction == 100:
                truth, right = is_true, answer.value("feedback")
            else:
                wrong = answer.value("feedback")
        if truth is None:
            raise ParseError(
                node.line, _l("Câu Đúng/Sai '%(name)s' không có đáp án đúng.", name=name)
            )
        return Question(
            kind="truefalse", truth=truth, feedback_right=right, feedback_wrong=wrong, **common
        )
    if qtype == "matching":
        pairs = tuple((s.value("text"), s.value("answer")) for s in node.findall("subquestion"))
        if sum(1 for left, right in pairs if left and right) < 2:
            raise ParseError(node.line, _l("Câu hỏi ghép đôi cần ít nhất hai cặp."))
        return Question(kind="matching", pairs=pairs, **common)
    answers = []
    for answer, fraction in _answers(node, name):
        tolerance = None
        if qtype == "numerical":
            tolerance = _number(answer.value("tolerance") or "0", answer.line)
            text_value = answer.value("text")
            value = "*" if text_value == "*" else str(_number(text_value, answer.line))
            if value == "*":
                tolerance = None
        else:
            value = answer.value("text")
        answers.append(Answer(value, fraction, answer.value("feedback"), tolerance))
    if qtype == "multichoice":
        single = node.value("single").lower() in ("true", "1")
        if len(answers) < 2:
            raise ParseError(node.line, _l("Câu hỏi nhiều lựa chọn cần ít nhất hai lựa chọn."))
        if single and not any(a.weight == 100 for a in answers):
            raise ParseError(
                node.line, _l("Một lựa chọn phải được 100% điểm để có thể đạt điểm tối đa.")
            )
        if not single and sum(a.weight for a in answers if a.weight > 0) < 99:
            raise ParseError(
                node.line, _l("Tổng các trọng số dương của câu nhiều đáp án đúng phải bằng 100.")
            )
        return Question(kind="single" if single else "multi", answers=tuple(answers), **common)
    if not answers or not any(a.weight == 100 for a in answers):
        raise ParseError(node.line, _l("Một đáp án phải được 100% điểm để có thể đạt điểm tối đa."))
    return Question(kind=KIND_OF_TYPE[qtype], answers=tuple(answers), **common)


def _number(text: str, line: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value.adjusted()) > 30:
        raise ParseError(
            line,
            _l("Đáp án phải là một số, ví dụ -1,234 hoặc 3e8, hoặc '*': %(value)s", value=text),
        )
    return value


CLOZE = re.compile(r"\{(\d*):([A-Z_]+)(?::((?:\\.|[^}])*))?\}")


def _check_cloze(node: Element) -> None:
    """Refuse an invalid Cloze question as Moodle does (LearnHub skips valid ones)."""
    name, text = node.value("name"), node.value("questiontext")

    def refuse(message) -> None:
        raise ParseError(
            node.line, _l("Câu Cloze '%(name)s' không hợp lệ: %(why)s", name=name, why=message)
        )

    found = CLOZE.findall(text)
    if not found:
        refuse(_l("nội dung phải có ít nhất một chỗ trống có đáp án."))
    for _mark, kind, body in found:
        choices = [c for c in re.split(r"(?<!\\)~", body or "") if c.strip()]
        weights = []
        for choice in choices:
            found_weight = re.match(r"^%(-?[0-9.]+)%", choice)
            weights.append(
                Decimal(100)
                if choice.startswith("=")
                else Decimal(found_weight.group(1))
                if found_weight
                else Decimal(0)
            )
        if kind.startswith(("MULTICHOICE", "MC", "MULTIRESPONSE", "MR")) and len(choices) < 2:
            refuse(_l("loại câu này cần ít nhất 2 lựa chọn."))
        if kind in ("NUMERICAL", "NM"):
            for choice in choices:
                value = re.sub(r"^(=|%-?[0-9.]+%)", "", choice).split("#", 1)[0].split(":")[0]
                if value.strip() != "*":
                    try:
                        Decimal(value.strip())
                    except InvalidOperation:
                        refuse(_l("đáp án phải là một số, ví dụ -1,234 hoặc 3e8, hoặc '*'."))
        if not any(w == 100 for w in weights):
            refuse(_l("một đáp án phải được 100% điểm để có thể đạt điểm tối đa."))


# -- writing (as Moodle's qformat_xml writes) ------------------------------------------------


def _text(value: str, indent: str) -> str:
    return f"{indent}<text>{escape(value)}</text>\n"


def _formatted(tag: str, value: str, fmt: str, indent: str = "    ") -> str:
    attr = quoteattr(XML_FORMATS.get(fmt, "moodle_auto_format"))
    return f"{indent}<{tag} format={attr}>\n{_text(value, indent + '  ')}{indent}</{tag}>\n"


def _weight(weight: Decimal) -> str:
    return f"{weight.normalize():f}"


def _answer(text: str, weight: Decimal, feedback: str, fmt: str, extra: str = "") -> str:
    return (
        f'    <answer fraction="{_weight(weight)}" format={quoteattr(XML_FORMATS[fmt])}>\n'
        + _text(text, "      ")
        + _formatted("feedback", feedback, fmt, "      ")
        + extra
        + "    </answer>\n"
    )


def write_question(q: Question) -> str:
    """One <question> element as Moodle's XML export writes it."""
    fmt = q.text_format if q.text_format in XML_FORMATS else "moodle"
    out = f'  <question type="{TYPE_OF_KIND[q.kind]}">\n'
    out += f"    <name>\n{_text(q.name, '      ')}    </name>\n"
    out += _formatted("questiontext", q.text, fmt)
    out += _formatted("generalfeedback", q.general_feedback, fmt)
    out += f"    <defaultgrade>{0 if q.kind == 'description' else 1}</defaultgrade>\n"
    out += "    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n    <idnumber></idnumber>\n"
    if q.kind in ("single", "multi"):
        out += f"    <single>{'true' if q.kind == 'single' else 'false'}</single>\n"
        out += "    <shuffleanswers>true</shuffleanswers>\n"
        out += "    <answernumbering>abc</answernumbering>\n"
        out += "".join(_answer(a.text, a.weight, a.feedback, fmt) for a in q.answers)
    elif q.kind == "truefalse":
        right, wrong = q.feedback_right, q.feedback_wrong
        out += _answer("true", Decimal(100 if q.truth else 0), right if q.truth else wrong, fmt)
        out += _answer("false", Decimal(0 if q.truth else 100), wrong if q.truth else right, fmt)
    elif q.kind == "short":
        out += "    <usecase>0</usecase>\n"
        out += "".join(_answer(a.text, a.weight, a.feedback, fmt) for a in q.answers)
    elif q.kind == "numerical":
        for a in q.answers:
            tolerance = _weight(a.tolerance or Decimal(0))
            extra = f"      <tolerance>{tolerance}</tolerance>\n"
            out += _answer(a.text, a.weight, a.feedback, fmt, extra)
    elif q.kind == "matching":
        out += "    <shuffleanswers>true</shuffleanswers>\n"
        for left, right in q.pairs:
            out += f"    <subquestion format={quoteattr(XML_FORMATS[fmt])}>\n"
            out += _text(left, "      ")
            out += f"      <answer>\n{_text(right, '        ')}      </answer>\n"
            out += "    </subquestion>\n"
    elif q.kind == "essay":
        out += "    <responseformat>editor</responseformat>\n"
        out += "    <responserequired>1</responserequired>\n"
        out += "    <responsefieldlines>15</responsefieldlines>\n"
        out += (
            "    <attachments>0</attachments>\n    <attachmentsrequired>0</attachmentsrequired>\n"
        )
        out += _formatted("graderinfo", "", "html")
        out += _formatted("responsetemplate", "", "html")
    if q.refs:
        tags = "".join(f"      <tag>{_text(REF_TAG + r, '')}</tag>\n" for r in q.refs)
        out += f"    <tags>\n{tags}    </tags>\n"
    return out + "  </question>\n"


def _category(path: str) -> str:
    full = f"$course$/top/{path}" if path else "$course$/top"
    return (
        '  <question type="category">\n'
        f"    <category>\n{_text(full, '      ')}    </category>\n"
        + _formatted("info", "", "moodle")
        + "    <idnumber></idnumber>\n  </question>\n"
    )


def write(questions: list[Question]) -> str:
    """A Moodle XML file of *questions*, grouped by category; Moodle and parse() read it back."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            out += ["<!-- question: 0  -->\n", _category(category), "\n"]
        out += ["<!-- question: 0  -->\n", write_question(q), "\n"]
    out.append("</quiz>\n")
    return "".join(out)


__all__ = ["BLANK", "Result", "Skipped", "parse", "read_tree", "write"]
