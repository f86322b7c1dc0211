"""Issue 16, findings 4 and 5: NFC at sign-in, login names without accents, and a person search
that ignores accents and case, in Vietnamese name order (the same on SQLite and PostgreSQL)."""

import unicodedata

import pytest

from learnhub.accounts import services
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from tests.support import csrf_token

PASSWORD_VI = "Mật khẩu Đồng Tháp Mười 2026"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _sign_in(client, login: str, password: str):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token})


def test_finding4_nfd_typed_login_and_password_sign_in(client, create_user):
    create_user("hồng.nhung@camau.gov.vn", password=PASSWORD_VI, full_name="Nguyễn Thị Hồng Nhung")
    assert nfd(PASSWORD_VI) != PASSWORD_VI
    response = _sign_in(client, nfd("Hồng.Nhung@camau.gov.vn"), nfd(PASSWORD_VI))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.location.endswith("/dashboard")


def test_finding4_password_set_in_nfd_signs_in_typed_in_nfc(client, create_user):
    create_user("nguyenvanung", password=nfd(PASSWORD_VI), full_name="Nguyễn Văn Ửng")
    assert _sign_in(client, "nguyenvanung", PASSWORD_VI).status_code == 302


@pytest.mark.parametrize("login", ["vovăndấu", "Vo Van Dau", "vo van dau", "võ"])
def test_finding4_login_names_without_accents_only(create_user, login):
    with pytest.raises(services.BadLogin):
        create_user(login)


def test_finding4_admin_form_refuses_accented_login(client, login, admin):
    login(admin)
    token = csrf_token(client, "/admin/users/new")
    page = client.post(
        "/admin/users/new",
        data={
            "full_name": "Võ Văn Dấu",
            "login": "vovăndấu",
            "password": "một mật khẩu đủ dài 2026",
            "roles": "learner",
            "unit": "",
            "csrf_token": token,
        },
    ).get_data(as_text=True)
    assert "Tên đăng nhập chỉ gồm chữ thường không dấu" in page
    assert services.find_by_login("vovăndấu") is None


def test_finding4_update_cannot_give_an_accented_login(create_user):
    user = create_user("vovandau")
    with pytest.raises(services.BadLogin):
        services.update_profile(SYSTEM, user, login="vovăndấu")


PEOPLE = ["Nguyễn Văn Ửng", "Trần Thị Út", "Nguyễn Thị Ánh", "Lê Văn An", "Đỗ Đức Dũng"]


@pytest.fixture
def people(create_user):
    return {name: create_user(full_name=name) for name in PEOPLE}


def _names(q: str, ours: tuple[str, ...] = tuple(PEOPLE)) -> list[str]:
    """The names this test made that the search finds, in its order (accounts other tests
    committed may match too)."""
    from learnhub import db

    return [
        u.full_name for u in db.session.scalars(services.search_users(q)) if u.full_name in ours
    ]


def test_finding5_search_ignores_accents_and_case(people):
    assert _names("nguyen van ung") == ["Nguyễn Văn Ửng"]
    assert _names("NGUYEN") == ["Nguyễn Thị Ánh", "Nguyễn Văn Ửng"]
    assert "Nguyễn Văn Ửng" in _names("ung")
    assert _names("dung") == ["Đỗ Đức Dũng"]
    assert _names("Đức") == ["Đỗ Đức Dũng"]
    assert _names(nfd("văn ửng")) == ["Nguyễn Văn Ửng"]
    assert _names("100%_") == []


def test_finding5_list_in_vietnamese_name_order(people, admin):
    names = [n for n in _names("") if n in PEOPLE]
    assert names == ["Lê Văn An", "Nguyễn Thị Ánh", "Đỗ Đức Dũng", "Trần Thị Út", "Nguyễn Văn Ửng"]


def test_finding5_admin_user_search_page(client, login, admin, people):
    login(admin)
    page = client.get("/admin/users/?q=nguyen+van+ung").get_data(as_text=True)
    assert "Nguyễn Văn Ửng" in page
    assert "Nguyễn Thị Ánh" not in page
    page = client.get("/admin/users/?q=Nguyen").get_data(as_text=True)
    assert page.index("Nguyễn Thị Ánh") < page.index("Nguyễn Văn Ửng")
    page = client.get("/admin/users/?q=ung&role=learner").get_data(as_text=True)
    assert "Nguyễn Văn Ửng" in page


def test_search_key_follows_renames(create_user):
    user = create_user(full_name="Lê Văn An")
    services.update_profile(SYSTEM, user, full_name="Phạm Thị Ửng")
    from learnhub import db

    db.session.flush()
    assert _names("pham thi ung", ("Phạm Thị Ửng",)) == ["Phạm Thị Ửng"]
    assert user.roles == {Role.learner}
