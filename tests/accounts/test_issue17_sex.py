"""Issue 17, finding 4: the person's sex was not recorded, so the register had no "Giới tính"
column and every document said "Ông/Bà". It is set on the admin account form and by the
account import (a bad value: a line-numbered Vietnamese error, nothing imported)."""

import io

import pytest
from sqlalchemy import func, select

from learnhub import db
from learnhub.accounts import roster
from learnhub.accounts.models import Sex, User, salutation, sex_label
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import SYSTEM
from tests.support import csrf_token

HEADER = "Họ và tên,Ngày sinh,Giới tính,Tên đăng nhập/Email,Đơn vị\n"


def _csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def test_finding4_salutation_by_sex():
    assert salutation(Sex.male) == "Ông"
    assert salutation(Sex.female) == "Bà"
    assert salutation(None) == "Ông/Bà"
    assert sex_label(Sex.female) == "Nữ"
    assert sex_label(None) == ""


def test_finding4_import_reads_sex_in_its_spellings(db_session):
    plan = roster.plan_import(
        _csv(
            [
                "Trần Văn Một,01/01/1980,Nam,gt.mot,CM-SNV",
                "Trần Thị Hai,01/01/1981,nữ,gt.hai,CM-SNV",
                "Lê Văn Ba,01/01/1982,M,gt.ba,CM-SNV",
                "Lê Thị Bốn,01/01/1983,F,gt.bon,CM-SNV",
                "Lê Năm,01/01/1984,,gt.nam,CM-SNV",
            ]
        )
    )
    assert plan.ok, plan.problems
    roster.apply_plan(SYSTEM, plan)
    found = dict(
        db_session.execute(select(User.username, User.sex).where(User.username.like("gt.%"))).all()
    )
    assert found == {
        "gt.mot": Sex.male,
        "gt.hai": Sex.female,
        "gt.ba": Sex.male,
        "gt.bon": Sex.female,
        "gt.nam": None,
    }
    # Importing again with a sex for the one unknown updates it (and is audited).
    plan = roster.plan_import(_csv(["Lê Năm,01/01/1984,Nam,gt.nam,CM-SNV"]))
    assert len(plan.update) == 1
    roster.apply_plan(SYSTEM, plan)
    assert db_session.scalar(select(User.sex).where(User.username == "gt.nam")) == Sex.male


def test_finding4_import_bad_sex_is_refused_whole(db_session):
    before = db_session.scalar(select(func.count()).select_from(User))
    plan = roster.plan_import(
        _csv(
            [
                "Trần Văn Một,01/01/1980,Nam,gt.mot,CM-SNV",
                "Trần Thị Hai,01/01/1981,khác,gt.hai,CM-SNV",
            ]
        )
    )
    assert not plan.ok
    assert [(p.row, p.column) for p in plan.problems] == [(3, "Giới tính")]
    assert "'khác' không phải giới tính; ghi Nam hoặc Nữ" in plan.problems[0].message
    with pytest.raises(roster.RosterError, match="không nhập gì"):
        roster.apply_plan(SYSTEM, plan)
    assert db_session.scalar(select(func.count()).select_from(User)) == before


def test_finding4_import_page_shows_the_line_and_imports_nothing(admin, client, login, db_session):
    login(admin)
    before = db_session.scalar(select(func.count()).select_from(User))
    url = "/admin/users/import/"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "file": (io.BytesIO(_csv(["Trần Văn Một,01/01/1980,X,gt.mot,"])), "ds.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Giới tính" in page
    assert "&#39;X&#39; không phải giới tính" in page
    assert db_session.scalar(select(func.count()).select_from(User)) == before


def test_finding4_admin_form_sets_and_clears_sex(admin, learner, client, login, db_session):
    login(admin)
    url = f"/admin/users/{learner.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Giới tính" in page
    assert "— Chưa rõ —" in page

    def post(sex: str):
        return client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "full_name": learner.full_name,
                "login": learner.login,
                "sex": sex,
                "unit": learner.unit.code if learner.unit else "",
            },
        )

    assert post("nu").status_code == 302
    db.session.expire_all()
    assert learner.sex == Sex.female
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.update").order_by(AuditEvent.id.desc())
    ).first()
    assert event.after["sex"] == "nu"
    assert post("nonsense").status_code == 400
    db.session.expire_all()
    assert learner.sex == Sex.female
    assert post("").status_code == 302
    db.session.expire_all()
    assert learner.sex is None
