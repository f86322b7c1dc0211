"""Problems found in content files, each with its file and line."""

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


_TOML_LINE = re.compile(r"at line (\d+)")


def toml_error_line(exc: Exception) -> int:
    found = _TOML_LINE.search(str(exc))
    return int(found.group(1)) if found else 1
