"""One neutral question representation, shared by every format and by the question editor.

A question is plain data: GIFT, Moodle XML and the editor all read into it and write from it, and
the bank stores it as JSON (`as_data` / `from_data`). Types (`kind`):

- ``single``: one right choice (a "missing word" question is one whose text holds ``_____``);
- ``multi``: several right choices, partial credit by weight (negative weights penalise);
- ``truefalse``: ``truth`` with a feedback for a wrong and for a right answer;
- ``short``: accepted answers with weights (``*`` matches anything);
- ``numerical``: numbers with a tolerance (a range min..max is its midpoint ± half its width);
  ``*`` catches every other number, for its feedback;
- ``matching``: (left, right) pairs; a pair with an empty left is a distractor;
- ``essay``: graded by hand;
- ``description``: text only, not a question (read from files, never stored in a bank).
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from learnhub.textutil import nfc

KINDS = ("single", "multi", "truefalse", "short", "numerical", "matching", "essay", "description")
#: The kinds a quiz can hold (description is text only).
QUIZ_KINDS = KINDS[:-1]
#: Vietnamese names of the kinds, for every page that shows one.
KIND_NAMES = {
    "single": _l("Một đáp án đúng"),
    "multi": _l("Nhiều đáp án đúng"),
    "truefalse": _l("Đúng/Sai"),
    "short": _l("Trả lời ngắn"),
    "numerical": _l("Số"),
    "matching": _l("Ghép đôi"),
    "essay": _l("Tự luận"),
    "description": _l("Mô tả"),
}
#: Text formats Moodle knows (GIFT's [marker] names); "moodle" is Moodle's default.
FORMATS = ("moodle", "html", "plain", "markdown")
#: What a "missing word" question holds where the answer goes.
BLANK = "_____"


class ParseError(Exception):
    """A file (or part of one) that cannot be read: its line and a translatable message."""

    def __init__(self, line: int, message: object):
        super().__init__(line, message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


@dataclass(frozen=True)
class Answer:
    """A choice, an accepted short answer, or a numerical answer; weight is a percentage."""

    text: str
    weight: Decimal
    feedback: str = ""
    #: Numerical answers: the accepted error around `text`.
    tolerance: Decimal | None = None


@dataclass(frozen=True)
class Question:
    #: Where the question starts in its file (1 when it did not come from a file).
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
    #: Legal references (GIFT: `// @ref …` lines above the question).
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

    def as_data(self) -> dict:
        """JSON-able data (what the bank and attempts store)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "text": self.text,
            "text_format": self.text_format,
            "category": self.category,
            "answers": [
                {
                    "text": a.text,
                    "weight": str(a.weight),
                    "feedback": a.feedback,
                    "tolerance": None if a.tolerance is None else str(a.tolerance),
                }
                for a in self.answers
            ],
            "pairs": [list(p) for p in self.pairs],
            "truth": self.truth,
            "feedback_wrong": self.feedback_wrong,
            "feedback_right": self.feedback_right,
            "general_feedback": self.general_feedback,
            "refs": list(self.refs),
        }

    @classmethod
    def from_data(cls, data: dict, line: int = 1) -> "Question":
        return cls(
            line=line,
            kind=data["kind"],
            name=data["name"],
            text=data["text"],
            category=data.get("category", ""),
            text_format=data.get("text_format", "moodle"),
            answers=tuple(
                Answer(
                    a["text"],
                    Decimal(a["weight"]),
                    a.get("feedback", ""),
                    None if a.get("tolerance") is None else Decimal(a["tolerance"]),
                )
                for a in data.get("answers", [])
            ),
            pairs=tuple((str(p[0]), str(p[1])) for p in data.get("pairs", [])),
            truth=data.get("truth"),
            feedback_wrong=data.get("feedback_wrong", ""),
            feedback_right=data.get("feedback_right", ""),
            general_feedback=data.get("general_feedback", ""),
            refs=tuple(data.get("refs", [])),
        )


def normalised(q: Question) -> Question:
    """The question with every text in Unicode NFC (what every import stores)."""
    return replace(
        q,
        name=nfc(q.name),
        text=nfc(q.text),
        category=nfc(q.category),
        answers=tuple(replace(a, text=nfc(a.text), feedback=nfc(a.feedback)) for a in q.answers),
        pairs=tuple((nfc(left), nfc(right)) for left, right in q.pairs),
        feedback_wrong=nfc(q.feedback_wrong),
        feedback_right=nfc(q.feedback_right),
        general_feedback=nfc(q.general_feedback),
        refs=tuple(nfc(r) for r in q.refs),
    )


def category_path(raw: str) -> str:
    """A Moodle category path as LearnHub keeps it: no `$course$/`-style context, no `top`."""
    path = raw.strip()
    if path.startswith("$") and "$" in path[1:]:
        path = path[path.index("$", 1) + 1 :].lstrip("/")
    parts = [p.strip() for p in path.split("/")]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return "/".join(p for p in parts if p)
