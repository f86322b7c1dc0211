"""Moodle's GIFT question format: parse into plain question data, and write it back.

Follows Moodle's own reader (question/format/gift/format.php): questions are separated by blank
lines, `//` starts a comment line, `$CATEGORY:` sets the category, and the answer block decides the
type. LearnHub adds one convention Moodle ignores: a `// @ref <document>` comment line right above a
question gives its legal reference.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

ESCAPES = {
    "\\\\": "\x01",
    "\\~": "\x02",
    "\\=": "\x03",
    "\\#": "\x04",
    "\\{": "\x05",
    "\\}": "\x06",
    "\\:": "\x07",
    "\\n": "\n",
}
RESTORE = {
    "\x01": "\\",
    "\x02": "~",
    "\x03": "=",
    "\x04": "#",
    "\x05": "{",
    "\x06": "}",
    "\x07": ":",
}
FORMATS = ("moodle", "html", "plain", "markdown")
KINDS = ("single", "multi", "truefalse", "short", "numerical", "matching", "essay", "description")


class GiftError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Answer:
    """A choice, an accepted short answer, or a numerical answer; weight is a percentage."""

    text: str
    weight: Decimal
    feedback: str = ""
    #: Numerical answers: tolerance around `text`, or `text` as "min..max".
    tolerance: Decimal | None = None


@dataclass(frozen=True)
class Question:
    line: int
    kind: str
    name: str
    text: str
    category: str = ""
    text_format: str = "moodle"
    answers: tuple[Answer, ...] = ()
    #: Matching: (left, right) pairs; an empty left is a distractor.
    pairs: tuple[tuple[str, str], ...] = ()
    #: True/false: the right answer and the feedback for a wrong and for a right answer.
    truth: bool | None = None
    feedback_wrong: str = ""
    feedback_right: str = ""
    general_feedback: str = ""
    refs: tuple[str, ...] = field(default=())

    def identity(self) -> tuple:
        """Everything that makes the question what it is (line numbers aside)."""
        return (
            self.kind,
            self.name,
            self.text,
            self.category,
            self.text_format,
            self.answers,
            self.pairs,
            self.truth,
            self.feedback_wrong,
            self.feedback_right,
            self.general_feedback,
            self.refs,
        )


def _protect(text: str) -> str:
    for seq, mark in ESCAPES.items():
        text = text.replace(seq, mark)
    return text


def _restore(text: str) -> str:
    for mark, char in RESTORE.items():
        text = text.replace(mark, char)
    return text


def _clean(text: str) -> str:
    return _restore(text).strip()


def _format(text: str) -> tuple[str, str]:
    text = text.lstrip()
    match = re.match(r"^\[(\w+)\]", text)
    if match and match.group(1) in FORMATS:
        return match.group(1), text[match.end() :]
    return "moodle", text


def _weight(text: str, line: int) -> tuple[Decimal | None, str]:
    match = re.match(r"^\s*%(-?[0-9.]+)%", text)
    if not match:
        return None, text
    try:
        value = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise GiftError(line, f"bad weight %{match.group(1)}%") from exc
    if not -100 <= value <= 100:
        raise GiftError(line, f"weight {value}% is outside -100..100")
    return value, text[match.end() :]


def _split_feedback(text: str) -> tuple[str, str]:
    answer, _, feedback = text.partition("#")
    return answer, feedback


def _blocks(source: str):
    """(first line, text lines, refs) per question, and category switches."""
    lines = source.splitlines()
    block: list[str] = []
    refs: list[str] = []
    start = 0
    for number, raw in enumerate([*lines, ""], start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            if stripped.startswith("// @ref "):
                refs.append(stripped.removeprefix("// @ref ").strip())
            continue
        if not stripped:
            if block:
                yield start, block, tuple(refs)
            block, refs = [], []
            continue
        if not block:
            start = number
        block.append(raw)


def parse(source: str) -> tuple[list[Question], list[GiftError]]:
    """Every question of a GIFT file, and every problem found (with its line)."""
    questions: list[Question] = []
    errors: list[GiftError] = []
    category = ""
    for line, block, refs in _blocks(source.lstrip("\ufeff")):
        text = "\n".join(block).strip()
        if text.startswith("$CATEGORY:"):
            category = text.removeprefix("$CATEGORY:").strip()
            category = category.removeprefix("$course$/").removeprefix("top/")
            if category == "top":
                category = ""
            continue
        try:
            questions.append(_question(text, line, category, refs))
        except GiftError as exc:
            errors.append(exc)
    return questions, errors


def _question(raw: str, line: int, category: str, refs: tuple[str, ...]) -> Question:
    text = _protect(raw)
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise GiftError(line, "question name is not closed with ::")
        name, text = _clean(text[2:end]), text[end + 2 :]
    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        fmt, body = _format(text)
        return Question(
            line, "description", name or _clean(body)[:60], _clean(body), category, fmt, refs=refs
        )
    if start < 0 or finish < 0 or finish < start:
        raise GiftError(line, "unbalanced braces { } (escape literal ones as \\{ \\})")
    if text.find("{", start + 1) != -1 and text.find("{", start + 1) < finish:
        raise GiftError(line, "an answer block cannot contain an unescaped {")
    after = text[finish + 1 :]
    if "{" in after or "}" in after:
        raise GiftError(line, "more than one answer block in a question")
    fmt, before = _format(text[:start])
    question_text = _clean(before)
    if _clean(after):
        question_text = f"{question_text} _____ {_clean(after)}".strip()
    if not question_text:
        raise GiftError(line, "the question has no text")
    name = name or question_text[:60]
    answer_text = text[start + 1 : finish]
    general = ""
    if "####" in answer_text:
        answer_text, general = answer_text.rsplit("####", 1)
    answer_text = answer_text.strip()
    common = {
        "line": line,
        "name": name,
        "text": question_text,
        "category": category,
        "text_format": fmt,
        "general_feedback": _clean(general),
        "refs": refs,
    }
    if not answer_text:
        return Question(kind="essay", **common)
    if answer_text.startswith("#"):
        return Question(kind="numerical", answers=_numerical(answer_text[1:], line), **common)
    if "~" in answer_text:
        return _multichoice(answer_text, line, common)
    if "=" not in answer_text:
        return _truefalse(answer_text, line, common)
    if "->" in answer_text:
        return Question(kind="matching", pairs=_matching(answer_text, line), **common)
    return Question(kind="short", answers=_short(answer_text, line), **common)


def _parts(answer_text: str) -> list[tuple[str, str]]:
    """Split at unescaped = and ~ markers: [(marker, rest), ...]."""
    pieces = re.split(r"(?=[=~])", answer_text)
    return [(p[0], p[1:]) for p in pieces if p.strip()]


def _multichoice(answer_text: str, line: int, common: dict) -> Question:
    answers = []
    for marker, rest in _parts(answer_text):
        if marker not in "=~":
            raise GiftError(line, f"answer must start with = or ~: {_clean(marker + rest)[:40]}")
        weight, rest = _weight(rest, line)
        body, feedback = _split_feedback(rest)
        if weight is None:
            weight = Decimal(100) if marker == "=" else Decimal(0)
        answers.append(Answer(_clean(body), weight, _clean(feedback)))
    if len(answers) < 2:
        raise GiftError(line, "a multiple-choice question needs at least two choices")
    if not any(a.weight > 0 for a in answers):
        raise GiftError(line, "no choice gives credit (mark one with = or a positive %weight%)")
    single = "=" in answer_text
    if not single and sum(a.weight for a in answers if a.weight > 0) < 99:
        raise GiftError(
            line, "the positive weights of a multiple-answer question must add up to 100"
        )
    return Question(kind="single" if single else "multi", answers=tuple(answers), **common)


def _truefalse(answer_text: str, line: int, common: dict) -> Question:
    value, _, feedback = answer_text.partition("#")
    key = value.strip().upper()
    if key not in ("T", "TRUE", "F", "FALSE"):
        raise GiftError(line, f"unknown answer '{_clean(value)[:40]}' (use T, F, = or ~)")
    wrong, _, right = feedback.partition("#")
    return Question(
        kind="truefalse",
        truth=key.startswith("T"),
        feedback_wrong=_clean(wrong),
        feedback_right=_clean(right),
        **common,
    )


def _short(answer_text: str, line: int) -> tuple[Answer, ...]:
    answers = []
    for _marker, rest in _parts(answer_text):
        weight, rest = _weight(rest, line)
        body, feedback = _split_feedback(rest)
        if not _clean(body):
            raise GiftError(line, "an accepted answer is empty")
        answers.append(
            Answer(_clean(body), Decimal(100) if weight is None else weight, _clean(feedback))
        )
    return tuple(answers)


def _matching(answer_text: str, line: int) -> tuple[tuple[str, str], ...]:
    pairs = []
    for marker, rest in _parts(answer_text):
        if marker != "=":
            raise GiftError(line, "matching pairs start with =")
        body, _feedback = _split_feedback(rest)
        if "->" not in body:
            raise GiftError(line, f"matching pair without ->: {_clean(body)[:40]}")
        left, right = body.split("->", 1)
        _fmt, left = _format(left)
        pairs.append((_clean(left), _clean(right)))
    if sum(1 for left, _ in pairs if left) < 2:
        raise GiftError(line, "a matching question needs at least two pairs")
    return tuple(pairs)


#: Numerical answers and tolerances within 10**±MAX_EXPONENT (as grading reads answers).
MAX_EXPONENT = 30


def _number(text: str, line: int) -> Decimal:
    try:
        value = Decimal(_clean(text))
    except InvalidOperation as exc:
        raise GiftError(line, f"'{_clean(text)}' is not a number") from exc
    # NaN and infinities parse, but cannot be compared; huge exponents overflow arithmetic.
    if not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT:
        raise GiftError(line, f"'{_clean(text)}' is not a number")
    return value


def _numerical(answer_text: str, line: int) -> tuple[Answer, ...]:
    answers = []
    wrong = ""
    if "~" in answer_text:
        answer_text, wrong = answer_text.split("~", 1)
    entries = [p[1] for p in _parts(answer_text)] if "=" in answer_text else [answer_text]
    for entry in entries:
        weight, entry = _weight(entry, line)
        body, feedback = _split_feedback(entry)
        body = _clean(body)
        if ".." in body:
            low, high = body.split("..", 1)
            low_n, high_n = _number(low, line), _number(high, line)
            if high_n < low_n:
                raise GiftError(line, f"range {body} runs backwards")
            value, tolerance = (low_n + high_n) / 2, (high_n - low_n) / 2
        else:
            number, _, tol = body.partition(":")
            value, tolerance = _number(number, line), _number(tol, line) if tol else Decimal(0)
        answers.append(
            Answer(
                str(value), Decimal(100) if weight is None else weight, _clean(feedback), tolerance
            )
        )
    if wrong:
        _body, feedback = _split_feedback(wrong)
        answers.append(Answer("*", Decimal(0), _clean(feedback)))
    return tuple(answers)


# -- writing ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text as GIFT wants it: control characters escaped, newlines as \\n."""
    out = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        out = out.replace(char, "\\" + char)
    return out.replace("\n", "\\n")


def _w(weight: Decimal, default: Decimal) -> str:
    return "" if weight == default else f"%{weight.normalize():f}%"


def _fb(feedback: str) -> str:
    return f"#{escape(feedback)}" if feedback else ""


def _head(q: Question) -> str:
    fmt = f"[{q.text_format}]" if q.text_format != "moodle" else ""
    return f"::{escape(q.name)}::{fmt}"


def _body(q: Question) -> str:
    if q.kind == "essay":
        return ""
    if q.kind in ("single", "multi"):
        lines = []
        for a in q.answers:
            if q.kind == "single" and a.weight == 100:
                lines.append(f"={escape(a.text)}{_fb(a.feedback)}")
            else:
                lines.append(f"~{_w(a.weight, Decimal(0))}{escape(a.text)}{_fb(a.feedback)}")
        return "\n".join(lines)
    if q.kind == "truefalse":
        fb = (
            f"#{escape(q.feedback_wrong)}#{escape(q.feedback_right)}"
            if (q.feedback_wrong or q.feedback_right)
            else ""
        )
        return ("TRUE" if q.truth else "FALSE") + fb
    if q.kind == "short":
        return "\n".join(
            f"={_w(a.weight, Decimal(100))}{escape(a.text)}{_fb(a.feedback)}" for a in q.answers
        )
    if q.kind == "matching":
        return "\n".join(f"={escape(left)} -> {escape(right)}" for left, right in q.pairs)
    if q.kind == "numerical":
        parts = []
        wrong = ""
        for a in q.answers:
            if a.text == "*":
                wrong = f"~{_fb(a.feedback)}"
                continue
            tol = f":{a.tolerance.normalize():f}" if a.tolerance else ""
            parts.append(f"={_w(a.weight, Decimal(101))}{a.text}{tol}{_fb(a.feedback)}")
        return "#\n" + "\n".join(parts) + ("\n" + wrong if wrong else "")
    raise ValueError(q.kind)


def write(questions: list[Question]) -> str:
    """GIFT text for *questions*, grouped by category; Moodle and parse() read it back."""
    out: list[str] = []
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            out.append(
                f"$CATEGORY: $course$/top/{category}" if category else "$CATEGORY: $course$/top"
            )
            out.append("")
        out.extend(f"// @ref {ref}" for ref in q.refs)
        text = escape(q.text)
        if q.kind == "description":
            out.append(f"{_head(q)}{text}")
        else:
            if "_____" in q.text and q.kind in ("single", "short"):
                before, after = q.text.split("_____", 1)
                text, tail = escape(before.rstrip()), " " + escape(after.strip())
            else:
                tail = ""
            general = f"####{escape(q.general_feedback)}" if q.general_feedback else ""
            inner = "\n".join(part for part in (_body(q), general) if part)
            block = f"{{\n{inner}\n}}" if inner else "{}"
            out.append(f"{_head(q)}{text} {block}{tail}")
        out.append("")
    return "\n".join(out)
