"""Issue 18: the site header is rendered once per language, set of roles and script root
(learnhub.core.header), and each page fills in its own CSRF token, path and reader's name. A
reader never sees another's header: the links of their own roles, their own name, a token
that works."""

import re

import pytest
from flask import url_for

from learnhub.accounts.models import Role
from learnhub.core import header
from learnhub.stencils import Stencil

#: The endpoints each role's header links to besides the four every signed-in reader has.
LINKS = {
    "learner": set(),
    "trainer": {"manage.index", "classes.manage_index", "register.index"},
    "hr": {"register.index", "reports.records_page"},
    "admin": {
        "manage.index",
        "classes.manage_index",
        "register.index",
        "reports.records_page",
        "admin_users.index",
        "orgunits.index",
        "issuers.index",
        "audit.index",
    },
}
EVERYONE = {"core.dashboard", "catalog.index", "classes.mine", "certificates.mine"}


def _urls(app, endpoints: set[str]) -> set[str]:
    with app.test_request_context():
        return {url_for(endpoint) for endpoint in endpoints}


def _header(html: str) -> str:
    return re.search(r'<header class="top".*?</header>', html, re.S)[0]


def _links(block: str) -> set[str]:
    nav = re.search(r"<nav.*?</nav>", block, re.S)[0]
    return set(re.findall(r'href="([^"]+)"', nav))


@pytest.fixture
def renders(monkeypatch):
    """How many times the header template was rendered."""
    count = []
    real = header._render

    def counting(lang, roles):
        count.append((lang, roles))
        return real(lang, roles)

    header._HEADERS.clear()
    monkeypatch.setattr(header, "_render", counting)
    return count


def test_each_reader_sees_the_links_of_their_own_roles_and_their_own_name(
    app, login, create_user, renders
):
    """Readers one after the other, the most privileged first, through a cache that keeps every
    header: each sees exactly their roles' links and their own name."""
    readers = [
        ("admin", create_user("qt", roles=(Role.admin,), full_name="Phạm Quản Trị")),
        ("hr", create_user("tc", roles=(Role.hr,), full_name="Lý Tổ Chức")),
        ("trainer", create_user("gv", roles=(Role.trainer,), full_name="Đào Giảng Viên")),
        ("learner", create_user("hv", full_name="Mai <Học> & Viên")),
    ]
    for role, user in readers:
        client = app.test_client()
        login(user, c=client)
        block = _header(client.get("/dashboard").get_data(as_text=True))
        links = _links(block)
        expected = _urls(app, EVERYONE | LINKS[role])
        assert {link for link in links if link != "/"} == expected, role
        assert '<span class="who">' in block
        name = re.search(r'<span class="who">(.*?)</span>', block)[1]
        assert name == user.full_name.replace("&", "&amp;").replace("<", "&lt;").replace(
            ">", "&gt;"
        )
    signed_out = _header(app.test_client().get("/login").get_data(as_text=True))
    assert _links(signed_out) == set()
    assert '<span class="who">' not in signed_out
    assert len(renders) == len(readers) + 1


def test_readers_with_the_same_roles_share_one_render_and_keep_their_own_values(
    app, login, create_user, renders
):
    first = create_user("hv1", full_name="Trần Văn Một")
    second = create_user("hv2", full_name="Lê Thị Hai")
    pages = []
    for user, path in ((first, "/modules/?q=a%22b"), (second, "/certificates/mine")):
        client = app.test_client()
        login(user, c=client)
        pages.append((user, path, client, _header(client.get(path).get_data(as_text=True))))
    learners = ("vi", frozenset({Role.learner}))
    assert renders == [("vi", None), learners]  # the sign-in page's, then one for both
    (one, _p1, c1, h1), (two, _p2, c2, h2) = pages
    assert one.full_name in h1
    assert two.full_name not in h1
    assert two.full_name in h2
    assert one.full_name not in h2
    # The page's own path goes back to it after a language change, escaped.
    assert 'name="next" value="/modules/?q=a%22b"' in h1
    missing = _header(c1.get("/modules/%3Cb%3E%22").get_data(as_text=True))
    assert 'name="next" value="/modules/&lt;b&gt;&#34;"' in missing
    assert 'name="next" value="/certificates/mine"' in h2
    # Each header's token is that reader's own, and it works.
    tokens = [re.findall(r'name="csrf_token" value="([^"]+)"', h) for h in (h1, h2)]
    assert len(tokens[0]) == len(tokens[1]) == 2
    switched = c2.post(
        "/lang", data={"lang": "en", "next": "/dashboard", "csrf_token": tokens[1][0]}
    )
    assert switched.status_code == 302
    english = _header(c2.get("/dashboard").get_data(as_text=True))
    assert "Sign out" in english
    assert two.full_name in english
    assert 'lang="vi">Tiếng Việt</button>' in english
    assert renders[2:] == [("en", frozenset({Role.learner}))]  # English is its own key
    still = _header(c1.get("/dashboard").get_data(as_text=True))
    assert "Đăng xuất" in still
    assert "Sign out" not in still
    assert len(renders) == 3


def test_a_value_that_holds_a_holes_text_fills_nothing_else():
    stencil = Stencil("<a>\x00c</a><b>\x00n</b>", ("\x00c", "\x00n"))
    assert stencil.fill({"\x00c": "\x00n", "\x00n": "x"}) == "<a>\x00n</a><b>x</b>"
    assert Stencil("plain", ("\x00c",)).fill({}) == "plain"


def test_the_header_token_is_the_pages_own_and_it_works(client, login, learner):
    login(learner)
    page = client.get("/dashboard").get_data(as_text=True)
    block = _header(page)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', block)
    assert len(tokens) == 2
    # Every CSRF field of the page carries the same token as the header's, and it is accepted.
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) == {tokens[0]}
    switched = client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": tokens[0]})
    assert switched.status_code == 302
    assert "Sign out" in _header(client.get("/dashboard").get_data(as_text=True))


def test_an_app_under_a_path_prefix_gets_a_header_of_its_own(app, login, learner, renders):
    client = app.test_client()
    login(learner, c=client)
    plain = _header(client.get("/dashboard").get_data(as_text=True))
    prefixed = _header(
        client.get("/dashboard", base_url="http://localhost/hoc/").get_data(as_text=True)
    )
    assert _links(plain) >= {"/dashboard", "/modules/"}
    assert _links(prefixed) >= {"/hoc/dashboard", "/hoc/modules/"}
    assert not {link for link in _links(prefixed) if not link.startswith("/hoc/")}
    assert len([key for key in renders if key[1] is not None]) == 2
