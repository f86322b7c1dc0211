"""Answers: checking what a learner sent, and grading it. Pure functions, no database."""

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from learnhub.textutil import fold

MAX_TEXT = 5000
MAX_ESSAY = 50_000
ONE = Decimal(1)
ZERO = Decimal(0)

#: Grade bands on the 10-point scale (lower bound, label), highest first.
BANDS = (
    (Decimal(9), "Xuất sắc"),
    (Decimal(8), "Giỏi"),
    (Decimal(7), "Khá"),
    (Decimal(5), "Trung bình"),
)
FAIL_BAND = "Không đạt"


class InvalidAnswer(Exception):
    """What the client sent does not fit the question; nothing is stored."""


def band(score: Decimal | None, bands: tuple = BANDS) -> str:
    """The grade band of a score; *bands* is ((lower bound, label), …) from highest down."""
    if score is None:
        return ""
    for lower, label in bands:
        if score >= lower:
            return label
    return FAIL_BAND


def lefts(snapshot: dict) -> list[str]:
    """Matching: the items to match (distractors have an empty left side)."""
    return [left for left, _right in snapshot["pairs"] if left]


def rights(snapshot: dict) -> list[str]:
    return [right for _left, right in snapshot["pairs"]]


def _index(value: object, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidAnswer("choice must be a number")
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,4}", text):
        raise InvalidAnswer("choice must be a number")
    number = int(text)
    if not 0 <= number < size:
        raise InvalidAnswer("choice out of range")
    return number


def _text(value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidAnswer("text expected")
    if len(value) > limit:
        raise InvalidAnswer("text too long")
    cleaned = "".join(ch for ch in value if ch in "\n\t" or ord(ch) >= 32)
    return unicodedata.normalize("NFC", cleaned)


def check_answer(snapshot: dict, order: list, raw: dict) -> dict:
    """The answer to store for *raw* (what the client sent), or InvalidAnswer."""
    kind = snapshot["kind"]
    if not isinstance(raw, dict):
        raise InvalidAnswer("answer must be an object")
    size = len(order)
    if kind == "single":
        return {"choice": _index(raw.get("choice"), size)}
    if kind == "multi":
        values = raw.get("choices", [])
        if not isinstance(values, list) or len(values) > size:
            raise InvalidAnswer("choices must be a list")
        return {"choices": sorted({_index(v, size) for v in values})}
    expected = {
        "single": "choice",
        "truefalse": "value",
        "short": "text",
        "numerical": "text",
        "essay": "text",
        "matching": "pairs",
    }.get(kind)
    if expected and expected not in raw:
        raise InvalidAnswer(f"'{expected}' expected")
    if kind == "truefalse":
        value = raw.get("value")
        if value in (True, "true", "1", 1):
            return {"value": True}
        if value in (False, "false", "0", 0):
            return {"value": False}
        raise InvalidAnswer("true or false expected")
    if kind in ("short", "numerical"):
        return {"text": _text(raw.get("text", ""), MAX_TEXT).strip()}
    if kind == "essay":
        return {"text": _text(raw.get("text", ""), MAX_ESSAY)}
    if kind == "matching":
        pairs = raw.get("pairs", {})
        if not isinstance(pairs, dict) or len(pairs) > len(lefts(snapshot)):
            raise InvalidAnswer("pairs must be an object")
        return {
            "pairs": {
                str(_index(k, len(lefts(snapshot)))): _index(v, size)
                for k, v in pairs.items()
                if str(v) != ""
            }
        }
    raise InvalidAnswer("this question takes no answer")


#: What an answer of each key is, before its question is known.
_PRESUMED_KIND = {"choice": "single", "choices": "multi", "value": "truefalse", "text": "essay"}
_ANY = 10_000


def presumed_answer(raw: dict) -> dict:
    """The answer check_answer will most likely store for *raw*, shaped without the question
    (the kind guessed from the key, any index in range): the save path writes it at once and
    checks it against the question afterwards. InvalidAnswer when no question could take it."""
    if not isinstance(raw, dict):
        raise InvalidAnswer("answer must be an object")
    if "pairs" in raw:
        pairs = raw["pairs"]
        if not isinstance(pairs, dict):
            raise InvalidAnswer("pairs must be an object")
        return {
            "pairs": {
                str(_index(k, _ANY)): _index(v, _ANY) for k, v in pairs.items() if str(v) != ""
            }
        }
    kind = next((kind for key, kind in _PRESUMED_KIND.items() if key in raw), None)
    if kind is None:
        raise InvalidAnswer("no answer")
    return check_answer({"kind": kind}, range(_ANY), raw)


def _normal(text: str, accents: bool) -> str:
    text = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return fold(text) if not accents else text


def _short_matches(pattern: str, given: str) -> bool:
    if "*" in pattern:
        regex = ".*".join(re.escape(part) for part in pattern.split("*"))
        return re.fullmatch(regex, given) is not None
    return pattern == given


#: Numbers beyond 10**±MAX_EXPONENT are no answer: arithmetic on them would overflow.
MAX_EXPONENT = 30


def _number(text: str) -> Decimal | None:
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    # "NaN" or "1e999999999" would raise in the comparison below: they match no answer.
    if not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT:
        return None
    return value


def grade(
    snapshot: dict, order: list, answer: dict | None, ignore_accents: bool = False
) -> Decimal | None:
    """Fraction of the credit earned (0..1); None for essays (a trainer grades them)."""
    kind = snapshot["kind"]
    if kind == "essay":
        return None
    if not answer:
        return ZERO
    answers = snapshot["answers"]
    if kind == "single":
        return max(ZERO, Decimal(answers[order[answer["choice"]]]["weight"]) / 100)
    if kind == "multi":
        total = sum((Decimal(answers[order[i]]["weight"]) for i in answer["choices"]), ZERO) / 100
        return min(ONE, max(ZERO, total))
    if kind == "truefalse":
        return ONE if answer["value"] == snapshot["truth"] else ZERO
    if kind == "short":
        given = _normal(answer["text"], not ignore_accents)
        best = ZERO
        for a in answers:
            if given and _short_matches(_normal(a["text"], not ignore_accents), given):
                best = max(best, Decimal(a["weight"]) / 100)
        return best
    if kind == "numerical":
        value = _number(answer["text"])
        best = ZERO
        if value is None:
            return best
        for a in answers:
            if a["text"] == "*":
                continue
            # Read as the learner's number is: a NaN imported before the GIFT reader refused it
            # matches nothing instead of raising.
            expected, tolerance = _number(a["text"]), _number(str(a["tolerance"] or 0))
            if expected is None or tolerance is None:
                continue
            if abs(value - expected) <= tolerance:
                best = max(best, Decimal(a["weight"]) / 100)
        return best
    if kind == "matching":
        items = lefts(snapshot)
        right_side = rights(snapshot)
        correct = dict(enumerate(r for left, r in snapshot["pairs"] if left))
        hits = sum(
            1 for k, v in answer["pairs"].items() if right_side[order[v]] == correct.get(int(k))
        )
        return Decimal(hits) / len(items) if items else ZERO
    return ZERO


def ten_point(earned: Decimal, possible: Decimal) -> Decimal:
    """A score on the 10-point scale, rounded half up to two decimals."""
    if possible <= 0:
        return ZERO
    return (earned * 10 / possible).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def feedback_for(snapshot: dict, order: list, answer: dict | None) -> list[str]:
    """The per-choice feedback that applies to an answer (shown only when review allows)."""
    kind = snapshot["kind"]
    answers = snapshot["answers"]
    if not answer:
        return []
    if kind == "single":
        return [answers[order[answer["choice"]]]["feedback"]]
    if kind == "multi":
        return [answers[order[i]]["feedback"] for i in answer["choices"]]
    if kind == "truefalse":
        right = answer["value"] == snapshot["truth"]
        return [snapshot["feedback_right"] if right else snapshot["feedback_wrong"]]
    return []


@dataclass(frozen=True)
class ShownChoice:
    """A choice of a single or multiple choice question, in the order the learner saw them."""

    text: str
    chosen: bool
    #: Whether choosing it earns credit (the key's tick).
    correct: bool


@dataclass(frozen=True)
class ShownPair:
    """An item of a matching question: what was matched to it (None: nothing) and the key."""

    left: str
    chosen: str | None
    correct: str


@dataclass(frozen=True)
class ShownAnswer:
    """One question of an attempt as a review shows it: what was answered, beside the key.
    Only the fields of its kind are filled."""

    kind: str
    answered: bool
    choices: tuple[ShownChoice, ...] = ()
    #: True or false: the answer given (None: none) and the key.
    value: bool | None = None
    truth: bool | None = None
    #: Short, numerical and essay: the text given; short and numerical: the full-credit answers.
    text: str = ""
    accepted: tuple[str, ...] = ()
    pairs: tuple[ShownPair, ...] = ()


def shown_answer(snapshot: dict, order: list, answer: dict | None) -> ShownAnswer:
    """What *answer* (as stored: check_answer's shape, or None) to the frozen question
    *snapshot*, shown in *order*, reads as beside the question's key, for every kind: the
    learner's review of their attempt and a trainer's of a learner's show the same."""
    kind = snapshot["kind"]
    answer = answer or {}
    answers = snapshot.get("answers") or []
    if kind in ("single", "multi"):
        picked = {answer["choice"]} if "choice" in answer else set(answer.get("choices", ()))
        choices = tuple(
            ShownChoice(answers[o]["text"], n in picked, Decimal(answers[o]["weight"]) > 0)
            for n, o in enumerate(order)
        )
        return ShownAnswer(kind, bool(picked), choices=choices)
    if kind == "truefalse":
        value = answer.get("value")
        return ShownAnswer(kind, value is not None, value=value, truth=snapshot["truth"])
    if kind in ("short", "numerical", "essay"):
        text = answer.get("text", "")
        accepted = tuple(
            a["text"] for a in answers if a["text"] != "*" and Decimal(a["weight"]) == 100
        )
        return ShownAnswer(kind, bool(text.strip()), text=text, accepted=accepted)
    if kind == "matching":
        shown = [rights(snapshot)[o] for o in order]
        picked = answer.get("pairs", {})
        keyed = [(left, right) for left, right in snapshot["pairs"] if left]  # as lefts()
        pairs = tuple(
            ShownPair(left, shown[picked[str(n)]] if str(n) in picked else None, right)
            for n, (left, right) in enumerate(keyed)
        )
        return ShownAnswer(kind, bool(picked), pairs=pairs)
    return ShownAnswer(kind, False)


def model_answer(snapshot: dict, order: list) -> dict:
    """A fully right answer to a frozen question, in the form a learner submits it (for the demo
    data and the benchmarks; never sent to a browser)."""
    kind = snapshot["kind"]
    answers = snapshot.get("answers") or []
    weights = [Decimal(answers[i]["weight"]) for i in order] if answers else []
    if kind == "single":
        return {"choice": weights.index(max(weights))}
    if kind == "multi":
        return {"choices": [n for n, w in enumerate(weights) if w > 0]}
    if kind == "truefalse":
        return {"value": snapshot["truth"]}
    if kind == "short":
        return {"text": next(a["text"] for a in answers if Decimal(a["weight"]) == 100)}
    if kind == "numerical":
        return {"text": next(a["text"] for a in answers if a["text"] != "*")}
    if kind == "matching":
        rights = [r for _left, r in snapshot["pairs"]]
        wanted = [r for left, r in snapshot["pairs"] if left]
        shown = [rights[o] for o in order]
        return {"pairs": {str(i): shown.index(r) for i, r in enumerate(wanted)}}
    if kind == "essay":
        return {"text": "Bài thu hoạch."}
    raise ValueError(f"no model answer for {kind!r}")
