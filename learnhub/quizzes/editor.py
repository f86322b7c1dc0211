"""The question editor's rules: what a trainer typed (plain strings) → a question, or the list of
what is wrong with it, in Vietnamese. Pure functions, no database, no HTTP.

The question it builds is the GIFT reader's `gift.Question`, the neutral form the bank stores
(`Question.as_data`) and writes back to GIFT, so an edited question exports and re-imports the same.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from learnhub.formats import gift
from learnhub.quizzes.kinds import BLANK, EDITOR_KINDS, editor_kind
from learnhub.textutil import clean_text

HUNDRED = Decimal(100)
#: Moodle's own fractions (1/3, 1/6, 1/7 …) are typed rounded: a sum this close to 100 % is 100 %.
SUM_SLACK = Decimal("0.01")
MAX_ROWS = 50


@dataclass
class AnswerRow:
    """One choice, accepted answer or numerical answer, as typed."""

    text: str = ""
    weight: str = ""
    feedback: str = ""
    tolerance: str = ""
    low: str = ""
    high: str = ""

    def is_blank(self) -> bool:
        return not any(
            x.strip() for x in (self.text, self.feedback, self.tolerance, self.low, self.high)
        )


@dataclass
class PairRow:
    """Matching: a left item and its right answer; a blank left makes the right a distractor."""

    left: str = ""
    right: str = ""


@dataclass
class Draft:
    """Everything the editor form holds, as typed."""

    kind: str
    text: str = ""
    name: str = ""
    category: str = ""
    general_feedback: str = ""
    refs: str = ""
    answers: list[AnswerRow] = field(default_factory=list)
    pairs: list[PairRow] = field(default_factory=list)
    #: True/false: "true", "false" or "" (not chosen yet).
    truth: str = ""
    feedback_right: str = ""
    feedback_wrong: str = ""
    #: Numerical: the feedback for any other number.
    feedback_other: str = ""


class QuestionInvalid(Exception):
    """What is wrong with a draft, one Vietnamese sentence each; nothing is stored."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_number(text: str) -> Decimal | None:
    """A number as a Vietnamese trainer types it ("2,5" or "2.5"); None when it is not one."""
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value.adjusted()) > gift.MAX_EXPONENT:
        return None
    return value


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def weight(self, row: AnswerRow, n: int, default: Decimal) -> Decimal:
        if not row.weight.strip():
            return default
        value = parse_number(row.weight)
        if value is None or not -HUNDRED <= value <= HUNDRED:
            self.errors.append(_("Đáp án %(n)s: điểm phải là một số từ -100 đến 100 (%%).", n=n))
            return Decimal(0)
        return value


def _rows(draft: Draft) -> list[tuple[int, AnswerRow]]:
    return [(n, row) for n, row in enumerate(draft.answers, start=1) if not row.is_blank()]


def _choices(draft: Draft, check: _Checker) -> tuple[gift.Answer, ...]:
    answers = []
    for n, row in _rows(draft):
        if not clean_text(row.text):
            check.errors.append(_("Đáp án %(n)s chưa có nội dung.", n=n))
        weight = check.weight(row, n, Decimal(0))
        answers.append(gift.Answer(clean_text(row.text), weight, clean_text(row.feedback)))
    if len(answers) < 2:
        check.errors.append(_("Câu trắc nghiệm cần ít nhất hai phương án."))
        return tuple(answers)
    if draft.kind in ("single", "missing"):
        if not any(a.weight == HUNDRED for a in answers):
            check.errors.append(_("Cần một đáp án đúng với điểm 100 %."))
    else:
        positive = sum((a.weight for a in answers if a.weight > 0), Decimal(0))
        if positive == 0:
            check.errors.append(_("Cần ít nhất một đáp án đúng (điểm lớn hơn 0)."))
        elif abs(positive - HUNDRED) > SUM_SLACK:
            check.errors.append(
                _(
                    "Tổng điểm các đáp án đúng phải bằng 100 %% (hiện là %(s)s %%).",
                    s=_number_text(positive),
                )
            )
    return tuple(answers)


def _short(draft: Draft, check: _Checker) -> tuple[gift.Answer, ...]:
    answers = []
    for n, row in _rows(draft):
        if not clean_text(row.text):
            check.errors.append(_("Đáp án %(n)s chưa có nội dung.", n=n))
        answers.append(
            gift.Answer(
                clean_text(row.text), check.weight(row, n, HUNDRED), clean_text(row.feedback)
            )
        )
    if not any(a.weight == HUNDRED for a in answers):
        check.errors.append(_("Cần ít nhất một câu trả lời được chấp nhận với điểm 100 %."))
    return tuple(answers)


def _numerical_row(row: AnswerRow, n: int, check: _Checker) -> tuple[Decimal, Decimal] | None:
    has_value, has_range = bool(row.text.strip()), bool(row.low.strip() or row.high.strip())
    if has_value == has_range:
        check.errors.append(
            _(
                "Đáp án %(n)s: nhập một giá trị (có thể kèm sai số) hoặc một khoảng từ … đến …, "
                "không nhập cả hai.",
                n=n,
            )
        )
        return None
    if has_range:
        low, high = parse_number(row.low), parse_number(row.high)
        if low is None or high is None:
            check.errors.append(_("Đáp án %(n)s: hai đầu của khoảng phải là số.", n=n))
            return None
        if high < low:
            check.errors.append(
                _("Đáp án %(n)s: đầu khoảng phải nhỏ hơn hoặc bằng cuối khoảng.", n=n)
            )
            return None
        return (low + high) / 2, (high - low) / 2
    value = parse_number(row.text)
    if value is None:
        check.errors.append(_("Đáp án %(n)s: giá trị phải là một số.", n=n))
        return None
    tolerance = parse_number(row.tolerance) if row.tolerance.strip() else Decimal(0)
    if tolerance is None:
        check.errors.append(_("Đáp án %(n)s: sai số phải là một số.", n=n))
        return None
    if tolerance < 0:
        check.errors.append(_("Đáp án %(n)s: sai số phải lớn hơn hoặc bằng 0.", n=n))
        return None
    return value, tolerance


def _numerical(draft: Draft, check: _Checker) -> tuple[gift.Answer, ...]:
    answers = []
    for n, row in _rows(draft):
        weight = check.weight(row, n, HUNDRED)
        found = _numerical_row(row, n, check)
        if found is not None:
            value, tolerance = found
            answers.append(gift.Answer(str(value), weight, clean_text(row.feedback), tolerance))
    if not check.errors and not any(a.weight == HUNDRED for a in answers):
        check.errors.append(_("Cần ít nhất một đáp án số với điểm 100 %."))
    if clean_text(draft.feedback_other):
        answers.append(gift.Answer("*", Decimal(0), clean_text(draft.feedback_other)))
    return tuple(answers)


def _pairs(draft: Draft, check: _Checker) -> tuple[tuple[str, str], ...]:
    pairs = []
    for n, row in enumerate(draft.pairs, start=1):
        left, right = clean_text(row.left), clean_text(row.right)
        if not left and not right:
            continue
        if not right:
            check.errors.append(_("Cặp %(n)s: thiếu vế phải.", n=n))
        if "->" in left:
            check.errors.append(_("Cặp %(n)s: vế trái không được chứa “->”.", n=n))
        pairs.append((left, right))
    if sum(1 for left, right in pairs if left and right) < 2:
        check.errors.append(_("Câu ghép đôi cần ít nhất hai cặp có đủ hai vế."))
    return tuple(pairs)


def build(draft: Draft) -> gift.Question:
    """The question a draft describes, or QuestionInvalid with every problem found."""
    if draft.kind not in EDITOR_KINDS:
        raise QuestionInvalid([_("Loại câu hỏi không hợp lệ.")])
    check = _Checker()
    text = clean_text(draft.text)
    if not text:
        check.errors.append(_("Hãy nhập nội dung câu hỏi."))
    if draft.kind == "missing" and text.count(BLANK) != 1:
        check.errors.append(
            _("Đánh dấu đúng một chỗ trống trong câu hỏi bằng %(b)s (năm dấu gạch dưới).", b=BLANK)
        )
    if len(draft.answers) > MAX_ROWS or len(draft.pairs) > MAX_ROWS:
        check.errors.append(_("Tối đa %(n)s đáp án.", n=MAX_ROWS))
    kind = "single" if draft.kind == "missing" else draft.kind
    extra: dict = {}
    if kind in ("single", "multi"):
        extra["answers"] = _choices(draft, check)
    elif kind == "short":
        extra["answers"] = _short(draft, check)
    elif kind == "numerical":
        extra["answers"] = _numerical(draft, check)
    elif kind == "matching":
        extra["pairs"] = _pairs(draft, check)
    elif kind == "truefalse":
        if draft.truth not in ("true", "false"):
            check.errors.append(_("Hãy chọn đáp án: Đúng hoặc Sai."))
        extra.update(
            truth=draft.truth == "true",
            feedback_right=clean_text(draft.feedback_right),
            feedback_wrong=clean_text(draft.feedback_wrong),
        )
    if check.errors:
        raise QuestionInvalid(check.errors)
    refs = tuple(r for r in (clean_text(line) for line in draft.refs.splitlines()) if r)
    return gift.Question(
        line=0,
        kind=kind,
        name=clean_text(draft.name)[:300] or text[:60],
        text=text,
        category=clean_text(draft.category).strip("/"),
        general_feedback=clean_text(draft.general_feedback),
        refs=refs,
        **extra,
    )


def _number_text(value: str | Decimal | None) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value).normalize():f}"


def draft_of(data: dict) -> Draft:
    """The editor's draft of a stored question (its data, as the bank keeps it)."""
    kind = editor_kind(data)
    answers = []
    other = ""
    for a in data.get("answers", []):
        if kind == "numerical" and a["text"] == "*":
            other = a.get("feedback", "")
            continue
        answers.append(
            AnswerRow(
                text=a["text"] if kind != "numerical" else _number_text(a["text"]),
                weight=_number_text(a["weight"]),
                feedback=a.get("feedback", ""),
                tolerance=_number_text(a.get("tolerance")) if kind == "numerical" else "",
            )
        )
    truth = data.get("truth")
    return Draft(
        kind=kind,
        text=data.get("text", ""),
        name=data.get("name", ""),
        category=data.get("category", ""),
        general_feedback=data.get("general_feedback", ""),
        refs="\n".join(data.get("refs", [])),
        answers=answers,
        pairs=[PairRow(left, right) for left, right in data.get("pairs", [])],
        truth="" if truth is None else ("true" if truth else "false"),
        feedback_right=data.get("feedback_right", ""),
        feedback_wrong=data.get("feedback_wrong", ""),
        feedback_other=other,
    )


def blank_draft(kind: str) -> Draft:
    """A new question of *kind* with room for its usual answers."""
    draft = Draft(kind=kind if kind in EDITOR_KINDS else "single")
    rows = {"single": 4, "multi": 4, "missing": 3, "short": 2, "numerical": 1}
    draft.answers = [AnswerRow() for _ in range(rows.get(draft.kind, 0))]
    draft.pairs = [PairRow() for _ in range(4 if draft.kind == "matching" else 0)]
    return draft
