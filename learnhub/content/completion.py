"""The completion rule of a module (module.toml ``[completion]``, the authoring form, a class's
overrides): one typed value with its defaults, parsed and validated here and nowhere else.

Read it through ``ModuleVersion.completion_rule()`` or, for a class (its overrides applied),
``TrainingClass.completion_rule()``. The messages are Vietnamese (msgids of the catalogue):
``flask content check`` prints them with the file and line, the authoring form shows them beside
the field.

It lives with the file formats because module.toml defines it: content reads it without knowing
any domain, and catalog, classes and the authoring form build on it (docs/architecture.md).
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal

from flask_babel import lazy_gettext as _l

#: What ``lessons`` may say: every lesson must be read, or none needs to be.
LESSONS = ("all", "none")
#: The bounds of the shares (both included).
SHARE_RANGE = (0.0, 1.0)


@dataclass(frozen=True)
class CompletionRule:
    """What completing a class of a module requires."""

    #: "all": every lesson read; "none": reading is not required.
    lessons: str = "all"
    #: The module quiz passed (its result at least the quiz's pass mark).
    quiz: bool = True
    #: Every essay graded at least 5.0.
    essay: bool = False
    #: The share of the class's periods attended (0 disables the requirement).
    attendance_share: float = 0.8
    #: Excused absences count as attended.
    count_excused: bool = True
    #: The share of a session's periods a late arrival counts for.
    late_weight: float = 1.0

    @property
    def share(self) -> Decimal:
        """attendance_share as an exact decimal (0.8 is Decimal("0.8"), not the float's digits)."""
        return Decimal(str(self.attendance_share))

    @property
    def late(self) -> Decimal:
        return Decimal(str(self.late_weight))

    def as_dict(self) -> dict:
        """The rule as module.toml's table (and the JSON kept with a version or a completion)."""
        return asdict(self)

    def with_overrides(self, overrides: Mapping | None) -> "CompletionRule":
        """This rule with a class's overrides (keys of the table; invalid values are ignored)."""
        return parse(overrides, base=self)[0] if overrides else self


KEYS = tuple(f.name for f in fields(CompletionRule))
DEFAULT = CompletionRule()


def _message(key: str, problem: str) -> str:
    messages = {
        "lessons": _l("Yêu cầu đọc bài học chỉ nhận “all” (đọc hết) hoặc “none” (không bắt buộc)."),
        "bool": _l("“%(key)s” phải là true hoặc false.", key=key),
        "attendance_share": _l("Tỷ lệ tham dự phải là một số từ 0 đến 1 (ví dụ 0.8 là 80%)."),
        "late_weight": _l("Hệ số đi muộn phải là một số từ 0 đến 1."),
        "unknown": _l("Điều kiện hoàn thành không có mục “%(key)s”.", key=key),
    }
    return str(messages[problem])


def _share(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    low, high = SHARE_RANGE
    return number if low <= number <= high else None


def parse(data: Mapping, base: CompletionRule = DEFAULT) -> tuple[CompletionRule, dict[str, str]]:
    """The rule that *data* (a module.toml table, a form's values, stored JSON) describes, keys
    left out taking *base*'s values; and a Vietnamese message per invalid or unknown key (an
    invalid value keeps *base*'s)."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for key, value in data.items():
        if key not in KEYS:
            errors[str(key)] = _message(str(key), "unknown")
        elif key == "lessons":
            if value in LESSONS:
                values[key] = value
            else:
                errors[key] = _message(key, "lessons")
        elif key in ("quiz", "essay", "count_excused"):
            if isinstance(value, bool):
                values[key] = value
            else:
                errors[key] = _message(key, "bool")
        elif (number := _share(value)) is not None:
            values[key] = number
        else:
            errors[key] = _message(key, key)
    return replace(base, **values), errors


def from_meta(data: Mapping | None) -> CompletionRule:
    """The rule kept in a version's metadata (validated when it was written); anything invalid
    there falls back to the default."""
    return parse(data or {})[0]
