"""Lesson Markdown to safe HTML: the one place that renders it (markdown-it-py, then nh3)."""

from collections.abc import Callable
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

from learnhub.content.modules import LESSON_FILE

ALLOWED_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "img",
    "hr",
    "br",
    "s",
    "del",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # No raw HTML in lessons: authors write Markdown, and nh3 cleans what comes out anyway.
    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def _rewrite(url: str, asset_url: Callable[[str], str], lesson_url: Callable[[str], str]) -> str:
    path = url.removeprefix("../").removeprefix("./")
    if path.startswith("assets/"):
        return asset_url(path.removeprefix("assets/"))
    target, _, anchor = path.partition("#")
    found = LESSON_FILE.match(target)
    if found:
        return lesson_url(found.group(2)) + (f"#{anchor}" if anchor else "")
    return url


def render(markdown: str, asset_url: Callable[[str], str], lesson_url: Callable[[str], str]) -> str:
    """Sanitised HTML for a lesson body; asset and lesson links point to their routes."""
    tokens = _parser().parse(markdown)
    for token in tokens:
        for child in token.children or []:
            if child.type == "image":
                child.attrSet(
                    "src", _rewrite(str(child.attrGet("src") or ""), asset_url, lesson_url)
                )
            elif child.type == "link_open":
                child.attrSet(
                    "href", _rewrite(str(child.attrGet("href") or ""), asset_url, lesson_url)
                )
    html = _parser().renderer.render(tokens, _parser().options, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
