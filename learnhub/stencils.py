"""Stencils: HTML rendered once with placeholders ("holes") where per-request values go, then
filled for each request in one pass (the attempt page's question forms, the site header).

Filling never looks inside a value, so a value that happens to hold a placeholder's text puts
nothing else in. The values are HTML as they are put in: the caller escapes what needs it."""

import re
from collections.abc import Iterable, Mapping

from markupsafe import Markup


class Stencil:
    __slots__ = ("_parts",)

    def __init__(self, html: str, holes: Iterable[str]) -> None:
        pattern = "|".join(re.escape(hole) for hole in holes)
        #: Text, hole, text, hole, …, text.
        self._parts: list[str] = re.split(f"({pattern})", html)

    def fill(self, values: Mapping[str, str]) -> Markup:
        parts = self._parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(values[parts[i]])
            out.append(parts[i + 1])
        return Markup("".join(out))  # noqa: S704  # nosec B704 (rendered HTML; values escaped by the caller)
