"""Reading content/org-units.toml into UnitData rows, with every problem found."""

import tomllib
import unicodedata
from datetime import date
from pathlib import Path

from learnhub.content.errors import Problem, toml_error_line
from learnhub.orgunits.models import UnitKind
from learnhub.orgunits.services import UnitData

KEYS = {
    "code",
    "name",
    "kind",
    "parent",
    "valid_from",
    "valid_to",
    "successor",
    "former_district",
    "note",
}
REQUIRED = {"code", "name", "kind"}


def _line_of(lines: list[str], code: str) -> int:
    needle = f'code = "{code}"'
    for number, line in enumerate(lines, start=1):
        if line.strip() == needle:
            return number
    return 1


def read_units(path: Path) -> tuple[list[UnitData], list[Problem]]:
    """Parse *path*; returns the rows and every problem (rows are only safe when none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [], [Problem(path, 1, "not UTF-8")]
    except OSError as exc:
        return [], [Problem(path, 1, f"cannot read: {exc.strerror}")]
    lines = text.splitlines()
    problems = [
        Problem(path, n, "text is not in Unicode NFC")
        for n, line in enumerate(lines, start=1)
        if not unicodedata.is_normalized("NFC", line)
    ]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [*problems, Problem(path, toml_error_line(exc), f"TOML syntax: {exc}")]
    unknown_top = set(data) - {"unit"}
    problems += [Problem(path, 1, f"unknown key '{k}'") for k in sorted(unknown_top)]
    rows: list[UnitData] = []
    seen: set[str] = set()
    for entry in data.get("unit", []):
        code = str(entry.get("code", ""))
        line = _line_of(lines, code)
        for key in sorted(set(entry) - KEYS):
            problems.append(Problem(path, line, f"unknown key '{key}' in unit {code}"))
        for key in sorted(REQUIRED - set(entry)):
            problems.append(Problem(path, line, f"missing key '{key}' in unit {code or '?'}"))
        if code in seen:
            problems.append(Problem(path, line, f"duplicate code '{code}'"))
        seen.add(code)
        kind = entry.get("kind", "")
        if kind and kind not in UnitKind.__members__:
            problems.append(Problem(path, line, f"unknown kind '{kind}' in unit {code}"))
            continue
        parent = entry.get("parent", "")
        if parent and parent not in seen:
            problems.append(
                Problem(path, line, f"parent '{parent}' of {code} is not defined above")
            )
        for key in ("valid_from", "valid_to"):
            if key in entry and not isinstance(entry[key], date):
                problems.append(Problem(path, line, f"'{key}' of {code} must be a TOML date"))
        if set(entry) >= REQUIRED:
            rows.append(
                UnitData(
                    code=code,
                    name=unicodedata.normalize("NFC", entry["name"]),
                    kind=UnitKind(kind),
                    parent_code=parent,
                    valid_from=entry.get("valid_from"),
                    valid_to=entry.get("valid_to"),
                    successor_code=entry.get("successor", ""),
                    former_district=entry.get("former_district", ""),
                    note=entry.get("note", ""),
                )
            )
    for row in rows:
        for key, ref in (
            ("successor", row.successor_code),
            ("former_district", row.former_district),
        ):
            if ref and ref not in seen:
                problems.append(
                    Problem(path, _line_of(lines, row.code), f"{key} '{ref}' is not defined")
                )
    return rows, problems
