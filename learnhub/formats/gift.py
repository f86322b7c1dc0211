"""Moodle's GIFT question format, read and written the way Moodle does it.

Follows Moodle's own reader and writer (question/format/gift/format.php): questions are separated
by blank lines, `//` starts a comment line, `$CATEGORY:` sets the category, and the answer block
decides the type. As in Moodle, a leading text-format marker (`[html]`, `[moodle]`, `[plain]`,
`[markdown]`) is removed from the question text, every answer, every feedback and the general
feedback; the answer block is replaced by `_____` only when text follows it. What `write` produces
is what Moodle's export writes, so Moodle and `parse` read it back as the same question.

LearnHub's additions: a `// @ref <document>` comment line right above a question gives its legal
reference; a `$CATEGORY:` line directly followed by a question (no blank line) applies to it; the
text is read in Unicode NFC; and what Moodle would import wrongly (a second answer block, weights
that do not add up) is refused with its line.
"""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from learnhub.formats.question import (
    BLANK,
    FORMATS,
    KINDS,
    Answer,
    ParseError,
    Question,
    category_path,
    nfc,
)

__all__ = ["KINDS", "Answer", "GiftError", "Question", "escape", "parse", "write"]

#: Kept for callers that name the error by its format.
GiftError = ParseError

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
#: Moodle's answer-weight pattern: %50%, %-33.33333%, %100%.
WEIGHT = re.compile(r"^%(-*[0-9]{1,2}\.?[0-9]*)%")
MARKER = re.compile(r"^\[(\w+)\]")
TRUE_FALSE = ("T", "TRUE", "F", "FALSE")
#: Numerical answers and tolerances within 10**±MAX_EXPONENT (as grading reads answers).
MAX_EXPONENT = 30


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


def _with_format(text: str, default: str = "moodle") -> tuple[str, str]:
    """Moodle's parse_text_with_format: (format, text without a leading known [marker])."""
    text = text.strip()
    found = MARKER.match(text)
    if found and found.group(1) in FORMATS:
        return found.group(1), _clean(text[found.end() :])
    return default, _clean(text)


def _text(text: str) -> str:
    """An answer, a feedback or the general feedback: its [marker] removed, as Moodle does."""
    return _with_format(text)[1]


def _blocks(source: str):
    """(first line, text lines, refs, category or None) per blank-line-separated block."""
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
        if stripped.startswith("$CATEGORY:") and not block:
            # A category line ends at its line end; a question may follow without a blank line.
            yield number, [stripped], ()
            continue
        if not block:
            start = number
        block.append(raw)


def parse(source: str) -> tuple[list[Question], list[ParseError]]:
    """Every question of a GIFT file (texts in NFC), and every problem found (with its line)."""
    questions: list[Question] = []
    errors: list[ParseError] = []
    category = ""
    for line, block, refs in _blocks(nfc(source.lstrip("\ufeff"))):
        text = "\n".join(block).strip()
        if text.startswith("$CATEGORY:"):
            category = category_path(text.removeprefix("$CATEGORY:"))
            continue
        try:
            questions.append(_question(text, line, category, refs))
        except ParseError as exc:
            errors.append(exc)
    return questions, errors


def _question(raw: str, line: int, category: str, refs: tuple[str, ...]) -> Question:
    text = _protect(raw)
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise ParseError(line, _l("Tên câu hỏi chưa được đóng bằng ::"))
        name, text = _clean(text[2:end]), text[end + 2 :].strip()
    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        fmt, body = _with_format(text)
        return Question(line, "description", name or body[:60], body, category, fmt, refs=refs)
    if start < 0 or finish < 0 or finish < start:
        raise ParseError(
            line, _l("Dấu ngoặc { } không cân đối (viết \\{ \\} cho dấu ngoặc trong văn bản).")
        )
    if text.find("{", start + 1) != -1 and text.find("{", start + 1) < finish:
        raise ParseError(line, _l("Phần đáp án không được chứa dấu { chưa thoát (viết \\{)."))
    after = text[finish + 1 :]
    if "{" in after or "}" in after:
        raise ParseError(line, _l("Một câu hỏi chỉ có một phần đáp án { }."))
    # As Moodle: the block goes; it leaves a blank only when text follows it.
    question_raw = text[:start] + (BLANK + after if after.strip() else "")
    fmt, question_text = _with_format(question_raw)
    if not question_text:
        raise ParseError(line, _l("Câu hỏi không có nội dung."))
    answer_text = text[start + 1 : finish].strip()
    general = ""
    if "####" in answer_text:
        answer_text, general = answer_text.rsplit("####", 1)
        answer_text = answer_text.strip()
    common = {
        "line": line,
        "name": name or question_text[:60],
        "text": question_text,
        "category": category,
        "text_format": fmt,
        "general_feedback": _text(general),
        "refs": refs,
    }
    if not answer_text:
        return Question(kind="essay", **common)
    if answer_text.startswith("#"):
        return Question(kind="numerical", answers=_numerical(answer_text[1:], line), **common)
    if "~" in answer_text:
        return _multichoice(answer_text, line, common)
    if "=" in answer_text and "->" in answer_text:
        return Question(kind="matching", pairs=_matching(answer_text, line), **common)
    check = answer_text.split("#", 1)[0].strip() if "#" in answer_text[1:] else answer_text
    if check in TRUE_FALSE:
        return _truefalse(answer_text, common)
    return Question(kind="short", answers=_short(answer_text, line), **common)


def _split(answer_text: str, sep: str) -> list[str]:
    """Moodle's explode on *sep*, dropping an empty first piece."""
    pieces = answer_text.split(sep)
    if not pieces[0].strip():
        pieces = pieces[1:]
    return [p.strip() for p in pieces]


def _weight(text: str, line: int, default: Decimal) -> tuple[Decimal, str]:
    found = WEIGHT.match(text)
    if not found:
        return default, text
    value = Decimal(found.group(1).lstrip("-"))
    if found.group(1).startswith("-"):
        value = -value
    if not -100 <= value <= 100:
        raise ParseError(line, _l("Trọng số %(w)s%% nằm ngoài khoảng -100..100.", w=value))
    return value, text[found.end() :]


def _comment(text: str) -> tuple[str, str]:
    """Moodle's commentparser: (answer, feedback), each without its [marker]."""
    answer, _, feedback = text.partition("#")
    return _text(answer), _text(feedback)


def _multichoice(answer_text: str, line: int, common: dict) -> Question:
    answers = []
    for piece in _split(answer_text.replace("=", "~="), "~"):
        if piece.startswith("="):
            weight, piece = Decimal(100), piece[1:]
        else:
            weight, piece = _weight(piece, line, Decimal(0))
        body, feedback = _comment(piece)
        answers.append(Answer(body, weight, feedback))
    if len(answers) < 2:
        raise ParseError(line, _l("Câu hỏi nhiều lựa chọn cần ít nhất hai lựa chọn."))
    if not any(a.weight > 0 for a in answers):
        raise ParseError(
            line, _l("Không lựa chọn nào được điểm (đánh dấu một lựa chọn bằng = hoặc %trọng số%).")
        )
    single = "=" in answer_text
    if not single and sum(a.weight for a in answers if a.weight > 0) < 99:
        raise ParseError(
            line, _l("Tổng các trọng số dương của câu nhiều đáp án đúng phải bằng 100.")
        )
    return Question(kind="single" if single else "multi", answers=tuple(answers), **common)


def _truefalse(answer_text: str, common: dict) -> Question:
    parts = [*answer_text.split("#", 2), "", ""]
    key, wrong, right = _text(parts[0]), _text(parts[1]), _text(parts[2])
    return Question(
        kind="truefalse",
        truth=key in ("T", "TRUE"),
        feedback_wrong=wrong,
        feedback_right=right,
        **common,
    )


def _short(answer_text: str, line: int) -> tuple[Answer, ...]:
    answers = []
    for piece in _split(answer_text, "="):
        weight, piece = _weight(piece, line, Decimal(100))
        body, feedback = _comment(piece)
        if not body:
            raise ParseError(line, _l("Có một câu trả lời được chấp nhận bị để trống."))
        answers.append(Answer(body, weight, feedback))
    if not answers:
        raise ParseError(line, _l("Câu trả lời ngắn cần ít nhất một câu trả lời được chấp nhận."))
    return tuple(answers)


def _matching(answer_text: str, line: int) -> tuple[tuple[str, str], ...]:
    pairs = []
    for piece in _split(answer_text, "="):
        if "->" not in piece:
            raise ParseError(
                line, _l("Cặp ghép đôi thiếu dấu ->: %(pair)s", pair=_clean(piece)[:40])
            )
        left, right = piece.split("->", 1)
        pairs.append((_text(left), _clean(right)))
    if sum(1 for left, _ in pairs if left) < 2:
        raise ParseError(line, _l("Câu hỏi ghép đôi cần ít nhất hai cặp."))
    return tuple(pairs)


def _number(text: str, line: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ParseError(line, _l("'%(value)s' không phải là một số.", value=text.strip())) from exc
    # NaN and infinities parse, but cannot be compared; huge exponents overflow arithmetic.
    if not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT:
        raise ParseError(line, _l("'%(value)s' không phải là một số.", value=text.strip()))
    return value


def _numerical(answer_text: str, line: int) -> tuple[Answer, ...]:
    wrong = ""
    if "~" in answer_text:
        at = answer_text.index("~")
        answer_text, wrong = answer_text[:at], answer_text[at:]
    pieces = _split(answer_text, "=")
    if not pieces:
        raise ParseError(line, _l("Câu hỏi dạng số chưa có đáp án."))
    answers = []
    for piece in pieces:
        weight, piece = _weight(piece, line, Decimal(100))
        body, feedback = _comment(piece)
        if body == "*":
            answers.append(Answer("*", weight, feedback))
            continue
        if body.find("..") > 0:
            low, high = body.split("..", 1)
            low_n, high_n = _number(low, line), _number(high, line)
            if high_n < low_n:
                raise ParseError(line, _l("Khoảng %(range)s bị ngược.", range=body))
            value, tolerance = (low_n + high_n) / 2, (high_n - low_n) / 2
        elif body.find(":") > 0:
            number, tol = body.split(":", 1)
            value, tolerance = _number(number, line), _number(tol, line)
        else:
            value, tolerance = _number(body, line), Decimal(0)
        answers.append(Answer(str(value), weight, feedback, abs(tolerance)))
    if wrong:
        answers.append(Answer("*", Decimal(0), _comment(wrong)[1]))
    return tuple(answers)


# -- writing (Moodle's writequestion) --------------------------------------------------------


def escape(text: str) -> str:
    """Moodle's repchar: control characters escaped, newlines as \\n."""
    out = text.replace("\\", "\\\\")
    for char in "#=~{}:":
        out = out.replace(char, "\\" + char)
    return out.replace("\r", "").replace("\n", "\\n")


def _written(text: str, fmt: str, default: str) -> str:
    """Moodle's write_questiontext; a text that itself starts like a marker keeps its own."""
    found = MARKER.match(text)
    marker = text != "" and (fmt != default or (found and found.group(1) in FORMATS))
    return (f"[{fmt}]" if marker else "") + escape(text)


def _w(weight: Decimal) -> str:
    return f"{weight.normalize():f}"


def _general(q: Question, indent: str = "\t") -> str:
    if not q.general_feedback:
        return ""
    text = "####" + _written(q.general_feedback, q.text_format, q.text_format)
    return f"{indent}{text}\n" if indent else text


def _block(q: Question) -> str:
    fmt = q.text_format

    def text(value: str) -> str:
        return _written(value, fmt, fmt)

    if q.kind == "essay":
        return "{" + _general(q, "") + "}"
    if q.kind == "truefalse":
        out = "{" + ("TRUE" if q.truth else "FALSE")
        if q.feedback_wrong:
            out += "#" + text(q.feedback_wrong)
        elif q.feedback_right:
            out += "#"
        if q.feedback_right:
            out += "#" + text(q.feedback_right)
        return out + _general(q, "") + "}"
    lines = []
    if q.kind in ("single", "multi"):
        for a in q.answers:
            if a.weight == 100 and q.kind == "single":
                mark = "="
            elif a.weight == 0:
                mark = "~"
            else:
                mark = f"~%{_w(a.weight)}%"
            lines.append(f"\t{mark}{text(a.text)}" + (f"#{text(a.feedback)}" if a.feedback else ""))
    elif q.kind == "short":
        lines = [f"\t=%{_w(a.weight)}%{text(a.text)}#{text(a.feedback)}" for a in q.answers]
    elif q.kind == "numerical":
        for a in q.answers:
            if a.text == "*" and a.weight == 0:
                lines.append(f"\t~#{text(a.feedback)}")
            else:
                tolerance = _w(a.tolerance or Decimal(0))
                at = a.text if a.text == "*" else f"{a.text}:{tolerance}"
                lines.append(f"\t=%{_w(a.weight)}%{at}#{text(a.feedback)}")
    elif q.kind == "matching":
        lines = [f"\t={text(left)} -> {escape(right)}" for left, right in q.pairs]
    else:
        raise ValueError(q.kind)
    head = "{#\n" if q.kind == "numerical" else "{\n"
    return head + "".join(line + "\n" for line in lines) + _general(q) + "}"


def write_question(q: Question) -> str:
    """One question as Moodle's GIFT export writes it (with LearnHub's @ref lines)."""
    out = [f"// @ref {ref}" for ref in q.refs]
    head = f"::{escape(q.name)}::" + _written(q.text, q.text_format, "moodle")
    out.append(head if q.kind == "description" else head + _block(q))
    return "\n".join(out)


def write(questions: list[Question]) -> str:
    """GIFT text for *questions*, grouped by category; Moodle and parse() read it back."""
    out: list[str] = []
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            path = f"$course$/top/{category}" if category else "$course$/top"
            out += [f"$CATEGORY: {path}", ""]
        out += [write_question(q), ""]
    return "\n".join(out)
