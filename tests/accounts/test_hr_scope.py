"""An HR grant names its units; "every unit" (toàn tỉnh) is an explicit choice of an admin."""

import pytest
from sqlalchemy import select

from learnhub.accounts import roster, services
from learnhub.accounts.models import Role, User
from learnhub.audit.services import SYSTEM, Actor
from tests.support import csrf_token

NEW_USER = {
    "full_name": "Lê Thị Thu Hà",
    "login": "tochuc-moi",
    "unit": "CM-SNV",
    "roles": ["hr"],
    "password": "tạm thời một hai ba",
}


def _new_user(client, **extra):
    token = csrf_token(client, "/admin/users/new")
    return client.post("/admin/users/new", data={"csrf_token": token, **NEW_USER, **extra})


def test_finding_6_new_user_with_hr_and_no_unit_is_refused(client, login, admin, db_session):
    login(admin)
    response = _new_user(client)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Mọi đơn vị (toàn tỉnh)" in html
    assert "phải ghi rõ đơn vị" in html
    assert services.find_by_login("tochuc-moi") is None


def test_finding_6_new_user_with_hr_names_units(client, login, admin, unit, db_session):
    login(admin)
    response = _new_user(client, hr_units=["X-THOI-BINH", "CM-STC"])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = services.find_by_login("tochuc-moi")
    assert sorted(u.code for u in user.scope_units(Role.hr)) == ["CM-STC", "X-THOI-BINH"]
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Cán bộ tổ chức: Sở Tài chính, Xã Thới Bình" in page


def test_finding_6_every_unit_is_an_explicit_choice_shown_as_such(client, login, admin, db_session):
    login(admin)
    response = _new_user(client, hr_every_unit="y")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = services.find_by_login("tochuc-moi")
    assert user.scope_units(Role.hr) is None
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Cán bộ tổ chức: Mọi đơn vị (toàn tỉnh)" in page
    # Units and "every unit" at once is a contradiction, refused too.
    again = _new_user(client, login="khac", hr_every_unit="y", hr_units=["CM-STC"])
    assert again.status_code == 200
    assert services.find_by_login("khac") is None


def test_finding_6_roles_form_refuses_hr_without_unit(client, login, admin, learner, db_session):
    login(admin)
    token = csrf_token(client, f"/admin/users/{learner.id}")
    url = f"/admin/users/{learner.id}/roles"
    form = {"csrf_token": token, "trainer_unit": "", "learner": "y", "hr": "y"}
    refused = client.post(url, data=form, follow_redirects=True)
    assert "phải ghi rõ đơn vị" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, learner.id).roles == {Role.learner}
    scoped = client.post(url, data={**form, "hr_units": ["CM-SNV"]})
    assert scoped.status_code == 302
    db_session.expire_all()
    assert [u.code for u in db_session.get(User, learner.id).scope_units(Role.hr)] == ["CM-SNV"]
    page = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert '<option selected value="CM-SNV">' in page
    everywhere = client.post(url, data={**form, "hr_every_unit": "y"})
    assert everywhere.status_code == 302
    db_session.expire_all()
    assert db_session.get(User, learner.id).scope_units(Role.hr) is None
    page = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert '<input checked id="hr_every_unit" name="hr_every_unit" type="checkbox"' in page
    assert "Cán bộ tổ chức: Mọi đơn vị (toàn tỉnh)" in page


def test_finding_6_service_refuses_hr_grant_without_units(create_user, admin, unit):
    with pytest.raises(services.ScopeRequired):
        services.create_user(SYSTEM, full_name="A", login="hr-x", roles=[services.Grant(Role.hr)])
    user = create_user("hr-y")
    with pytest.raises(services.ScopeRequired):
        services.set_roles(Actor(admin), user, [services.Grant(Role.hr)])
    services.set_roles(Actor(admin), user, [services.Grant(Role.hr, every_unit=True)])
    assert user.scope_units(Role.hr) is None
    services.set_roles(Actor(admin), user, [services.Grant(Role.hr, unit("CM-SNV").id)])
    assert [u.code for u in user.scope_units(Role.hr)] == ["CM-SNV"]


def test_finding_6_cli_create_hr_needs_units_or_every_unit(runner, db_session):
    base = ["users", "create", "--name", "Lê Thị Thu Hà", "--role", "hr"]
    pw = ["--password", "một mật khẩu đủ dài"]
    refused = runner.invoke(args=[*base, "--login", "cli-hr-1", *pw])
    assert refused.exit_code != 0
    assert "--hr-unit" in refused.output
    assert services.find_by_login("cli-hr-1") is None
    scoped = runner.invoke(
        args=[*base, "--login", "cli-hr-2", "--hr-unit", "CM-SNV", "--hr-unit", "CM-STC", *pw]
    )
    assert scoped.exit_code == 0, scoped.output
    user = services.find_by_login("cli-hr-2")
    assert sorted(u.code for u in user.scope_units(Role.hr)) == ["CM-SNV", "CM-STC"]
    everywhere = runner.invoke(args=[*base, "--login", "cli-hr-3", "--hr-every-unit", *pw])
    assert everywhere.exit_code == 0, everywhere.output
    assert services.find_by_login("cli-hr-3").scope_units(Role.hr) is None


def test_finding_6_roster_import_scopes_hr_to_the_row_unit(db_session):
    header = "Họ và tên,Tên đăng nhập/Email,Đơn vị,Vai trò\n"
    plan = roster.plan_import((header + "Lê Thị Thu Hà,hr-tep,CM-STC,Cán bộ tổ chức\n").encode())
    assert plan.ok, plan.problems
    roster.apply_plan(SYSTEM, plan)
    user = db_session.scalar(select(User).where(User.username == "hr-tep"))
    assert [u.code for u in user.scope_units(Role.hr)] == ["CM-STC"]
    no_unit = roster.plan_import((header + "Lê Văn Ửng,hr-tep-2,,Cán bộ tổ chức\n").encode())
    assert [(p.row, p.column) for p in no_unit.problems] == [(2, "Vai trò")]
    assert "đơn vị" in no_unit.problems[0].message


def test_roles_are_granted_only_by_admins(create_user, trainer):
    """The shape behind finding 1: account services refuse a non-admin actor outright."""
    victim = create_user("nan-nhan")
    with pytest.raises(services.AccountError):
        services.set_roles(Actor(trainer), trainer, [services.Grant(Role.hr, every_unit=True)])
    with pytest.raises(services.AccountError):
        services.create_user(Actor(trainer), full_name="X", login="x-moi")
    header = "Họ và tên,Tên đăng nhập/Email,Vai trò\n"
    plan = roster.plan_import((header + "Tên Khác,nan-nhan,Giảng viên\n").encode())
    with pytest.raises(roster.RosterError):
        roster.apply_plan(Actor(trainer), plan)
    assert (victim.full_name, victim.roles) == ("Nguyễn Văn An", {Role.learner})
