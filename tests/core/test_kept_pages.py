"""Pages kept whole (learnhub.core.kept): rendered once per key with the page's holes, filled for
each request with its own CSRF token, path and reader's name; never kept with a message to show
or with a token that the render wrote itself."""

import logging
import re

from flask import flash, session
from flask_wtf.csrf import generate_csrf

from learnhub.core.kept import KeptPages
from learnhub.security import csrf_field
from learnhub.stencils import CSRF_INPUT, forget_kept, is_keeping, keeping

PAGE = """{% extends "base.html" %}{% block content %}<form>{{ csrf_field() }}</form>
<p>{{ word }}</p>{% endblock %}"""

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _kept(pages: KeptPages) -> list[str]:
    return [stencil.unfilled() for stencil in pages._pages.values()]


# Each request below has its own app context, as a real request has (the test's own would
# otherwise share its `g`, where Flask-WTF keeps the request's signed token).


def test_a_kept_page_keeps_its_holes_and_each_request_gets_its_own_values(app):
    pages = KeptPages(app.jinja_env.from_string(PAGE))
    with app.app_context(), app.test_request_context("/trang?x=1"):
        first = pages.render(("k",), word="một")
        token = session["csrf_token"]
    [kept] = _kept(pages)
    assert "một" in kept
    assert kept.count(CSRF_INPUT) == 2  # the page's form and the header's language form
    assert not TOKEN.search(kept)
    assert 'name="next" value="/trang?x=1"' in first
    assert len(set(TOKEN.findall(first))) == 1
    with app.app_context(), app.test_request_context("/trang?x=2"):
        second = pages.get(("k",))
        assert session["csrf_token"] != token  # another session, another token
        assert set(TOKEN.findall(second)) == {TOKEN.search(csrf_field())[1]}
    assert "một" in second
    assert 'name="next" value="/trang?x=2"' in second
    assert TOKEN.search(first)[1] != TOKEN.search(second)[1]
    with app.app_context(), app.test_request_context("/trang"):
        assert pages.get(("other",)) is None
    assert pages.counts == {"hits": 1, "misses": 1}


def test_a_page_that_writes_a_token_itself_is_served_and_never_kept(app, caplog):
    pages = KeptPages(app.jinja_env.from_string("<p>{{ csrf_token() }}</p>"))
    with app.app_context(), app.test_request_context("/"), caplog.at_level(logging.ERROR):
        html = pages.render(("k",))
        assert html == f"<p>{generate_csrf()}</p>"
    assert pages._pages == {}
    assert "holds a CSRF token" in caplog.text


def test_a_page_with_a_message_is_not_kept_and_shows_it_once(app):
    pages = KeptPages(app.jinja_env.from_string(PAGE))
    with app.app_context(), app.test_request_context("/"):
        flash("Thông báo một lần", "info")
        assert pages.get(("k",)) is None
        html = pages.render(("k",), word="w")
        assert "Thông báo một lần" in html
    assert pages._pages == {}
    with app.app_context(), app.test_request_context("/"):
        html = pages.render(("k",), word="w")
    assert "Thông báo một lần" not in html
    assert len(pages._pages) == 1


def test_keeping_is_undone_after_the_render_even_when_it_fails(app):
    with app.app_context(), app.test_request_context("/"):
        try:
            with keeping():
                assert csrf_field() == CSRF_INPUT
                raise ValueError
        except ValueError:
            pass
        assert not is_keeping()
        assert TOKEN.search(csrf_field())


def test_every_store_of_kept_renders_is_forgotten_together(app, login, learner, client):
    from learnhub.catalog import views as catalog_views
    from learnhub.core import header
    from learnhub.quizzes import views as quiz_views

    login(learner)
    assert client.get("/dashboard").status_code == 200
    pages = KeptPages(app.jinja_env.from_string(PAGE))
    with app.app_context(), app.test_request_context("/"):
        pages.render(("k",), word="w")
    stores = [pages._pages, header._HEADERS, catalog_views._PARTS, quiz_views._FRAGMENTS]
    catalog_views._PARTS[("x",)] = None
    quiz_views._FRAGMENTS[("x",)] = None
    assert all(stores)
    forget_kept()
    assert not any(stores)
    assert not catalog_views.LESSON_PAGES._pages
    assert not quiz_views.ATTEMPT_PAGES._pages
