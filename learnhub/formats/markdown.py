"""Lesson Markdown: rendered to safe HTML in this one place (markdown-it-py, then nh3), and its
links checked (what `content check` and the lesson editor refuse)."""

import re
from collections.abc import Callable
from functools import lru_cache

import nh3
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt

LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.md$")
LINK = re.compile(r"(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

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


def link_problem(
    target: str, image: bool, assets: set[str], lesson_files: set[str]
) -> object | None:
    """Why a link or image target is not acceptable in a lesson, or None."""
    lowered = target.strip().lower()
    scheme = lowered.split(":", 1)[0] if ":" in lowered else ""
    if image:
        name = target.removeprefix("../").removeprefix("assets/")
        if scheme or not target.removeprefix("../").startswith("assets/"):
            return _l("Ảnh '%(target)s' phải là một tệp trong assets/", target=target)
        if name not in assets:
            return _l("Không tìm thấy ảnh '%(target)s' trong assets/", target=target)
        return None
    if scheme in ("http", "https", "mailto"):
        return None
    if scheme:
        return _l(
            "Liên kết '%(target)s' dùng giao thức bị cấm (%(scheme)s:)",
            target=target,
            scheme=scheme,
        )
    if target.startswith("#"):
        return None
    path = target.split("#", 1)[0]
    if path.removeprefix("../").startswith("assets/"):
        name = path.removeprefix("../").removeprefix("assets/")
        if name in assets:
            return None
        return _l("Không tìm thấy liên kết '%(target)s' trong assets/", target=target)
    if path.removeprefix("./") in lesson_files:
        return None
    return _l("Liên kết '%(target)s' không trỏ tới bài học hay tệp nào", target=target)
