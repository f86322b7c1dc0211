"""Stencils: HTML rendered once with placeholders ("holes") where per-request values go, then
filled for each request in one pass (the attempt page's question forms, the site header, the
pages kept whole by learnhub.core.kept).

Filling never looks inside a value, so a value that happens to hold a placeholder's text puts
nothing else in. The values are HTML as they are put in: the caller escapes what needs it.

A page kept whole is rendered once inside `keeping()`: what differs from one reader or request
to the next then writes its hole instead of its value (security.csrf_field the CSRF input,
core.header.page_header the page's path and the reader's name), whichever template calls it."""

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

from markupsafe import Markup

#: The holes of every page: its CSRF input, the path a language change returns to, and the
#: signed-in reader's name.
CSRF_INPUT, PAGE_PATH, READER_NAME = "\x00c", "\x00n", "\x00u"
PAGE_HOLES = (CSRF_INPUT, PAGE_PATH, READER_NAME)

C = TypeVar("C")

_keeping: ContextVar[bool] = ContextVar("learnhub_keeping", default=False)


class Clearable(Protocol):
    def clear(self) -> None: ...


#: Every store of kept renders in the process (headers, forms, lesson parts, whole pages).
_KEPT: list[Clearable] = []


def kept(store: C) -> C:
    """Register *store* (a dict, a KeptPages) as one of the process's kept renders."""
    _KEPT.append(store)
    return store


def forget_kept() -> None:
    """Forget every kept render. Keys name rows by id, and a database never gives an id twice;
    the tests do (each test's rows are rolled back), so each test starts with none kept."""
    for store in _KEPT:
        store.clear()


@contextmanager
def keeping() -> Iterator[None]:
    """Within it, a render writes the page's holes instead of this request's values."""
    token = _keeping.set(True)
    try:
        yield
    finally:
        _keeping.reset(token)


def is_keeping() -> bool:
    return _keeping.get()


class Stencil:
    __slots__ = ("_parts",)

    def __init__(self, html: str, holes: Iterable[str]) -> None:
        pattern = "|".join(re.escape(hole) for hole in holes)
        #: Text, hole, text, hole, …, text.
        self._parts: list[str] = re.split(f"({pattern})", html)

    def unfilled(self) -> Markup:
        """The HTML with its holes, to be kept inside a larger stencil."""
        return Markup("".join(self._parts))  # noqa: S704  # nosec B704 (rendered HTML)

    def fill(self, values: Mapping[str, str]) -> Markup:
        parts = self._parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(values[parts[i]])
            out.append(parts[i + 1])
        return Markup("".join(out))  # noqa: S704  # nosec B704 (rendered HTML; values escaped by the caller)
