"""Enrolment from a pasted list or a file: it matches existing accounts and changes none of them."""

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role, RoleGrant, User
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog.services import by_slug
from learnhub.classes import services as classes
from learnhub.timeutil import today
from tests.support import csrf_token, multipart


@pytest.fixture
def lop(trainer):
    return classes.open_class(
        Actor(trainer),
        by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(code="GD-1", title="Lớp ghi danh", starts_on=today(), ends_on=today()),
        [trainer],
    )


def accounts_state(db_session) -> dict:
    """Every account's name, login, unit, profile and role grants: what no enrolment may change."""
    users = db_session.scalars(select(User).order_by(User.id)).all()
    grants = db_session.execute(
        select(RoleGrant.user_id, RoleGrant.role, RoleGrant.unit_id).order_by(RoleGrant.id)
    ).all()
    return {
        "users": [
            (
                u.id,
                u.full_name,
                u.username,
                u.email,
                u.unit_id,
                u.birth_date,
                u.position,
                u.rank,
                u.is_enabled,
            )
            for u in users
        ],
        "grants": sorted((g.user_id, str(g.role), g.unit_id) for g in grants),
        "count": db_session.scalar(select(func.count()).select_from(User)),
    }


def _xlsx(text: str) -> bytes:
    book = Workbook()
    sheet = book.active
    for line in text.strip().splitlines():
        sheet.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


FINDING_1 = (
    "Họ và tên,Tên đăng nhập/Email,Đơn vị,Vai trò\n"
    "Nguyễn Văn An,giangvien,CM-LHHN,giảng viên;cán bộ tổ chức\n"
    "Kẻ Mạo Danh,quantri,X-THOI-BINH,học viên\n"
)
HOSTILE = {
    "finding-1": FINDING_1,
    "roles-column": (
        "Họ và tên,Tên đăng nhập/Email,Vai trò\n"
        "Nguyễn Thị Hồng Nhung,hocvien,Cán bộ tổ chức\n"
        "Nguyễn Văn An,giangvien,hr\n"
    ),
    "unit-column": (
        "Họ và tên,Tên đăng nhập/Email,Đơn vị,Chức vụ,Ngạch\n"
        "Nguyễn Thị Hồng Nhung,hocvien,X-THOI-BINH,Giám đốc,Chuyên viên cao cấp\n"
    ),
    "changed-names": (
        "Họ và tên,Tên đăng nhập/Email,Ngày sinh\n"
        "Tên Đã Đổi,hocvien,01/01/1990\n"
        "Người Khác,quantri,02/02/1980\n"
    ),
    "admin-row": (
        "Họ và tên,Tên đăng nhập/Email,Vai trò,Đơn vị\n"
        "Nguyễn Văn An,quantri,Quản trị,CM-SNV\n"
        "Nguyễn Văn An,giangvien,Quản trị,CM-SNV\n"
    ),
    "new-accounts": (
        "Họ và tên,Tên đăng nhập/Email,Đơn vị,Vai trò\n"
        "Người Mới,nguoi-moi,CM-SNV,Cán bộ tổ chức\n"
        "Người Mới Hai,moi2@camau.gov.vn,CM-SNV,Giảng viên\n"
    ),
}


def _post(client, lop, route: str, text: str):
    token = csrf_token(client, f"/manage/classes/{lop.id}")
    if route == "enrol":
        return client.post(
            f"/manage/classes/{lop.id}/enrol",
            data={"csrf_token": token, "logins": text},
            follow_redirects=True,
        )
    if route == "enrol-unit":  # takes no file: one is sent anyway, with the unit field
        body, ctype = multipart(
            {"csrf_token": token, "unit": "CM-SNV"}, {"file": (text.encode(), "l.csv")}
        )
        return client.post(
            f"/manage/classes/{lop.id}/enrol-unit",
            data=body,
            content_type=ctype,
            follow_redirects=True,
        )
    data, name = (
        (_xlsx(text), "lop.xlsx") if route == "enrol-file.xlsx" else (text.encode(), "l.csv")
    )
    body, ctype = multipart({"csrf_token": token}, {"file": (data, name)})
    return client.post(
        f"/manage/classes/{lop.id}/enrol-file",
        data=body,
        content_type=ctype,
        follow_redirects=True,
    )


ROUTES = ["enrol", "enrol-file.csv", "enrol-file.xlsx", "enrol-unit"]


def test_every_enrolment_route_is_in_the_hostile_file_test(app):
    """A new route that enrols (its endpoint or URL says so) fails here until ROUTES covers it
    (removing someone from a class, "unenrol", adds nobody and is not listed)."""
    enrolling = {
        rule.rule.rsplit("/", 1)[-1]
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        and ("enrol" in rule.endpoint or "enrol" in rule.rule)
        and "unenrol" not in rule.endpoint + rule.rule
    }
    assert enrolling == {r.split(".")[0] for r in ROUTES}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_trainer_enrolment_cannot_change_any_account(
    client, login, trainer, learner, admin, lop, db_session, route, hostile
):
    """Acceptance: a trainer posting any file to any enrolment route cannot change any account's
    roles, unit or name (asserted on the database)."""
    before = accounts_state(db_session)
    login(trainer)
    response = _post(client, lop, route, HOSTILE[hostile])
    assert response.status_code == 200
    db_session.expire_all()
    assert accounts_state(db_session) == before
    assert db_session.get(User, trainer.id).roles == {Role.trainer, Role.learner}
    assert db_session.get(User, admin.id).is_admin


def test_finding_1_trainer_enrol_file_cannot_make_themselves_hr(
    client, login, trainer, admin, lop, db_session, unit
):
    login(trainer)
    response = _post(client, lop, "enrol-file.csv", FINDING_1)
    html = response.get_data(as_text=True)
    db_session.expire_all()
    me = db_session.get(User, trainer.id)
    assert Role.hr not in me.roles
    assert me.scope_units(Role.hr) == []
    boss = db_session.get(User, admin.id)
    assert (boss.full_name, boss.unit.code, boss.roles) == (
        "Nguyễn Văn An",
        "CM-SNV",
        {Role.admin},
    )
    # The file names real accounts, but its other columns are not the trainer's to set: the rows
    # whose name differs from the account are reported, and nobody is enrolled.
    assert "Dòng 3" in html
    assert classes.roster(lop) == []
    assert client.get("/reports/units?unit=CM").status_code in (403, 404)


def test_enrol_file_matches_login_email_and_name_with_birth_date(
    client, login, trainer, create_user, unit, lop, db_session
):
    by_login = create_user("hv-a", full_name="Trần Văn Bình", unit=unit("CM-SNV"))
    by_email = create_user("hv.b@camau.gov.vn", full_name="Lê Thị Cúc", unit=unit("CM-STC"))
    by_name = create_user("hv-c", full_name="Phạm Minh Đức", birth_date=date(1988, 4, 5))
    login(trainer)
    text = (
        "Họ và tên,Ngày sinh,Tên đăng nhập/Email,Email\n"
        "Trần Văn Bình,,HV-A,\n"
        "Lê Thị Cúc,,,hv.b@camau.gov.vn\n"
        "Phạm  Minh Đức,05/04/1988,,\n"
    )
    response = _post(client, lop, "enrol-file.csv", text)
    assert "Đã ghi danh 3 học viên" in response.get_data(as_text=True)
    assert {u.id for u in classes.roster(lop)} == {by_login.id, by_email.id, by_name.id}


def test_enrol_file_reports_unknown_and_ambiguous_rows_and_enrols_nobody(
    client, login, trainer, create_user, lop, db_session
):
    create_user("twin-1", full_name="Ngô Thị Mai", birth_date=date(1990, 1, 1))
    create_user("twin-2", full_name="Ngô Thị Mai", birth_date=date(1990, 1, 1))
    known = create_user("known", full_name="Đinh Văn Tốt")
    before = accounts_state(db_session)
    login(trainer)
    text = (
        "Họ và tên,Ngày sinh,Tên đăng nhập/Email\n"
        "Đinh Văn Tốt,,known\n"
        "Ngô Thị Mai,01/01/1990,\n"
        "Không Có Ai,,khong-co-ai\n"
        "Chỉ Có Tên,,\n"
    )
    html = _post(client, lop, "enrol-file.csv", text).get_data(as_text=True)
    assert "Không ghi danh ai" in html
    assert "Dòng 3" in html
    assert "nhiều tài khoản" in html
    assert "Dòng 4" in html
    assert "khong-co-ai" in html
    assert "Dòng 5" in html
    assert known.id not in {u.id for u in classes.roster(lop)}
    db_session.expire_all()
    assert accounts_state(db_session) == before


def test_pasted_list_is_all_or_nothing_with_line_numbers(
    client, login, trainer, learner, lop, db_session
):
    login(trainer)
    html = _post(client, lop, "enrol", "hocvien\n\nkhong-ton-tai\n").get_data(as_text=True)
    assert "Dòng 3" in html
    assert "khong-ton-tai" in html
    assert classes.roster(lop) == []
    html = _post(client, lop, "enrol", "HOCVIEN\nhocvien\n").get_data(as_text=True)
    assert "Đã ghi danh 1 học viên" in html
    assert [u.id for u in classes.roster(lop)] == [learner.id]


def test_disabled_account_is_reported_not_enrolled(
    client, login, trainer, create_user, lop, db_session
):
    gone = create_user("da-nghi", full_name="Vũ Văn Nghỉ")
    accounts.set_enabled(SYSTEM, gone, False)
    login(trainer)
    html = _post(client, lop, "enrol", "da-nghi\n").get_data(as_text=True)
    assert "Dòng 1" in html
    assert gone.id not in {u.id for u in classes.roster(lop)}
