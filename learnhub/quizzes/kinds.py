"""The question types a trainer sees, and their Vietnamese names (the one mapping every page uses).

A question's stored kind is what GIFT says (single, multi, …). "Missing word" is Moodle's
multiple-choice question whose blank sits inside the text, so it is stored as a single-choice
question with `_____` in its text and named apart here.
"""

from flask_babel import lazy_gettext as _l

#: The blank of a missing-word question, as GIFT leaves it in the text.
BLANK = "_____"

#: The types the editor offers, in the order a trainer meets them.
EDITOR_KINDS = (
    "single",
    "multi",
    "truefalse",
    "short",
    "numerical",
    "matching",
    "missing",
    "essay",
)

TYPE_NAMES = {
    "single": _l("Trắc nghiệm một đáp án"),
    "multi": _l("Trắc nghiệm nhiều đáp án"),
    "truefalse": _l("Đúng/Sai"),
    "short": _l("Trả lời ngắn"),
    "numerical": _l("Trả lời bằng số"),
    "matching": _l("Ghép đôi"),
    "missing": _l("Điền từ còn thiếu"),
    "essay": _l("Tự luận"),
    "description": _l("Đoạn mô tả"),
}


def editor_kind(data: dict) -> str:
    """The editor's type of stored question data (or of an attempt's frozen snapshot)."""
    kind = data.get("kind", "")
    if kind == "single" and BLANK in data.get("text", ""):
        return "missing"
    return kind


def type_name(data: dict) -> str:
    """The Vietnamese name of a question's type, from its data or snapshot."""
    kind = editor_kind(data)
    return str(TYPE_NAMES.get(kind, kind))
