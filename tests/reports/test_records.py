"""Completion records (/reports/records): scope, unit roll-up across mergers, filters, status,
keyset pagination, robustness."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.attendance.models import Completion
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import services as certificates
from learnhub.certificates.models import RevokeReason
from learnhub.classes import services as classes
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.orgunits import services as units
from learnhub.orgunits.models import UnitKind
from learnhub.reports import records
from learnhub.timeutil import today, utcnow

# -- helpers (also used by test_exports and test_cli) ----------------------------------------


def make_class(
    trainer,
    code: str,
    slug: str = "doi-ngoai-nhan-dan",
    starts: date = date(2026, 1, 5),
    ends: date = date(2026, 1, 9),
    title: str = "Lớp bồi dưỡng đối ngoại nhân dân",
):
    return classes.open_class(
        Actor(trainer),
        by_slug(slug),
        classes.ClassData(code=code, title=title, starts_on=starts, ends_on=ends),
        [trainer],
    )


def enrol(training_class, *users) -> None:
    classes.enrol(Actor(None), training_class, list(users))


def complete(training_class, user, score: str | None = "8.5", share: str = "0.875") -> None:
    """Record a completion directly (the completion rule is tested in attendance)."""
    db.session.add(
        Completion(
            class_id=training_class.id,
            user_id=user.id,
            completed_at=utcnow(),
            rule={},
            score=Decimal(score) if score else None,
            attendance_share=Decimal(share),
        )
    )
    db.session.flush()


def get(client, url: str):
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data()


def html_of(client, url: str, status: int = 200) -> str:
    code, _headers, body = get(client, url)
    assert code == status, body[:500]
    return body.decode()


def login_of(html_cell: str) -> str:
    found = re.search(r'<span class="help">([^<]+)</span>', html_cell)
    return found.group(1) if found else ""


def table_of(html: str) -> str:
    """The table body of a records page ("" when there is none)."""
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""


def names_in(html: str, people) -> set[str]:
    """Which of *people* have a row in the page's table."""
    table = table_of(html)
    return {p.full_name for p in people if p.full_name in table}


def row_ids(html: str) -> list[str]:
    """The logins shown in the table, in order (one per row)."""
    return re.findall(r'<tr>\s*<td>[^<]*<br><span class="help">([^<]+)</span>', html)


@pytest.fixture
def two_units(create_user, unit, trainer):
    """Unit A (Sở Nội vụ) and unit B (Sở Tài chính), one learner each, both in one class."""
    snv, stc = unit("CM-SNV"), unit("CM-STC")
    people = {
        "a": create_user("hv-a", full_name="Nguyễn Thị Hồng Nhung", unit=snv),
        "b": create_user("hv-b", full_name="Trần Hồng Quân", unit=stc),
    }
    klass = make_class(trainer, "BC-2026-01")
    enrol(klass, people["a"], people["b"])
    officers = {
        "a": create_user("hr-a", roles=(Role.hr,), unit=snv, scope=snv),
        "b": create_user("hr-b", roles=(Role.hr,), unit=stc, scope=stc),
        "all": create_user("hr-all", roles=(Role.hr,), unit=snv),
    }
    return people, officers, klass


# -- access and scope ------------------------------------------------------------------------


def test_roles(client, login, learner, trainer, hr, admin):
    code, headers, _body = get(client, "/reports/records")
    assert code == 302
    assert "/login" in headers["Location"]
    for user, expected in ((learner, 403), (trainer, 403), (hr, 200), (admin, 200)):
        c = login(user, c=client.application.test_client())
        assert get(c, "/reports/records")[0] == expected, user.login


def test_hr_sees_only_their_units_people(app, login, two_units, admin):
    people, officers, _klass = two_units
    everyone = list(people.values())
    for key, other in (("a", "b"), ("b", "a")):
        c = login(officers[key], c=app.test_client())
        html = html_of(c, "/reports/records")
        assert names_in(html, everyone) == {people[key].full_name}
        assert people[other].login not in table_of(html)
        # Asking for the other unit by code gives nothing, never their rows.
        other_unit = people[other].unit.code
        html = html_of(c, f"/reports/records?unit={other_unit}")
        assert names_in(html, everyone) == set()
        html = html_of(c, f"/reports/records?q={people[other].full_name}")
        assert names_in(html, everyone) == set()
    for viewer in (officers["all"], admin):
        c = login(viewer, c=app.test_client())
        html = html_of(c, "/reports/records?klass=BC-2026-01")
        assert names_in(html, everyone) == {p.full_name for p in everyone}


def test_nav_link_for_hr_and_admin_only(app, login, hr, learner):
    html = html_of(login(hr, c=app.test_client()), "/reports/records")
    assert 'href="/reports/records">Báo cáo</a>' in html
    html = html_of(login(learner, c=app.test_client()), "/dashboard")
    assert "/reports/records" not in html


# -- units merged into others ----------------------------------------------------------------


def test_former_district_reports_under_its_successor(
    client, login, admin, create_user, unit, trainer
):
    # A commune of the former district (before 01/07/2025), with no successor of its own.
    old_commune, _ = units.save_unit(
        SYSTEM,
        units.UnitData(
            code="X-TAN-PHU-CU",
            name="Xã Tân Phú (cũ)",
            kind=UnitKind.commune,
            parent_code="H-THOI-BINH",
            valid_to=date(2025, 6, 30),
        ),
    )
    assert unit("H-THOI-BINH").successor.code == "X-THOI-BINH"
    in_commune = create_user("hv-tp", full_name="Lâm Thị Cẩm Tú", unit=old_commune)
    in_district = create_user("hv-hd", full_name="Đặng Văn Lực", unit=unit("H-THOI-BINH"))
    in_successor = create_user("hv-tb", full_name="Võ Minh Triết", unit=unit("X-THOI-BINH"))
    # Another new commune carved from the same district: not the district's successor.
    sibling = create_user("hv-trp", full_name="Huỳnh Kim Ngân", unit=unit("X-TRI-PHAI"))
    elsewhere = create_user("hv-snv", full_name="Phan Thanh Bình", unit=unit("CM-SNV"))
    everyone = [in_commune, in_district, in_successor, sibling, elsewhere]
    klass = make_class(trainer, "BC-TB-2024", starts=date(2024, 5, 6), ends=date(2024, 5, 10))
    enrol(klass, *everyone)
    complete(klass, in_commune)

    login(admin)
    html = html_of(client, "/reports/records?unit=X-THOI-BINH")
    assert names_in(html, everyone) == {
        in_commune.full_name,
        in_district.full_name,
        in_successor.full_name,
    }
    assert "Xã Tân Phú (cũ)" in html  # the record keeps the unit the person was in
    html = html_of(client, "/reports/records?unit=H-THOI-BINH")
    assert names_in(html, everyone) == {in_commune.full_name, in_district.full_name}
    html = html_of(client, "/reports/records?unit=X-TRI-PHAI")
    assert names_in(html, everyone) == {sibling.full_name}

    # The HR officer of the new commune sees the former district's people (their scope,
    # policy.people_ids, follows orgunits.rollup_ids).
    officer = create_user(
        "hr-tb", roles=(Role.hr,), unit=unit("X-THOI-BINH"), scope=unit("X-THOI-BINH")
    )
    c = login(officer, c=client.application.test_client())
    html = html_of(c, "/reports/records?unit=X-THOI-BINH")
    assert {in_district.full_name, in_successor.full_name} <= names_in(html, everyone)
    assert elsewhere.full_name not in html
    assert sibling.full_name not in html


# -- filters and status ----------------------------------------------------------------------


@pytest.fixture
def catalogue(create_user, unit, trainer, admin):
    """Three classes of two modules: ended Jan 2026, ended Mar 2026, and one still running."""
    snv = unit("CM-SNV")
    p = {
        "nhung": create_user("hv-nhung", full_name="Nguyễn Thị Hồng Nhung", unit=snv),
        "duc": create_user("hv-duc", full_name="Phạm Minh Đức", unit=snv),
        "ung": create_user("hv-ung", full_name="Lê Văn Ửng", unit=snv),
    }
    jan = make_class(trainer, "BC-JAN", ends=date(2026, 1, 9))
    mar = make_class(
        trainer,
        "BC-MAR",
        slug="quan-ly-to-chuc-pcpnn",
        starts=date(2026, 3, 2),
        ends=date(2026, 3, 6),
        title="Lớp quản lý hoạt động PCPNN",
    )
    running = make_class(
        trainer, "BC-NOW", starts=today() - timedelta(days=1), ends=today() + timedelta(days=30)
    )
    enrol(jan, p["nhung"], p["duc"])
    enrol(mar, p["duc"], p["ung"])
    enrol(running, p["ung"])
    complete(jan, p["nhung"], "9.25", "1")
    complete(mar, p["ung"], "7", "0.8")
    return p, {"jan": jan, "mar": mar, "running": running}


def pairs(client, url: str, p: dict) -> set[tuple[str, str]]:
    """(person key, class code) of every row on the page."""
    html = html_of(client, url)
    table = html.split("<tbody>", 1)[1] if "<tbody>" in html else ""
    out = set()
    for row in table.split("<tr>")[1:]:
        key = next((k for k, person in p.items() if person.full_name in row), None)
        code = re.split(r"<br>", re.findall(r"<td>(.*?)</td>", row, flags=re.S)[3], maxsplit=1)[0]
        if key is not None and code.startswith("BC-"):
            out.add((key, code))
    return out


def test_status_definition(catalogue):
    stmt = records.statement(records.Filters(), None).where(
        TrainingClass.code.in_(["BC-JAN", "BC-MAR", "BC-NOW"])
    )
    got = {(r.login, r.class_code): r.status for r in db.session.execute(stmt)}
    assert got == {
        ("hv-nhung", "BC-JAN"): records.COMPLETED,
        ("hv-duc", "BC-JAN"): records.NOT_COMPLETED,  # ended without a completion
        ("hv-duc", "BC-MAR"): records.NOT_COMPLETED,
        ("hv-ung", "BC-MAR"): records.COMPLETED,
        ("hv-ung", "BC-NOW"): records.IN_PROGRESS,  # not ended yet
    }
    # The day decides: before March's class ended, Đức was still learning there.
    stmt = records.statement(records.Filters(klass="BC-MAR"), None, on=date(2026, 3, 6))
    assert {r.login: r.status for r in db.session.execute(stmt)}["hv-duc"] == records.IN_PROGRESS


def test_filters(client, login, admin, catalogue):
    p, _k = catalogue
    login(admin)
    base = "/reports/records?per_page=200&"

    def rows(query: str) -> set[tuple[str, str]]:
        return pairs(client, base + query, p)

    everything = rows("q=hv")
    assert everything == {
        ("nhung", "BC-JAN"),
        ("duc", "BC-JAN"),
        ("duc", "BC-MAR"),
        ("ung", "BC-MAR"),
        ("ung", "BC-NOW"),
    }
    assert rows("module=quan-ly-to-chuc-pcpnn&q=hv") == {("duc", "BC-MAR"), ("ung", "BC-MAR")}
    assert rows("klass=BC-JAN") == {("nhung", "BC-JAN"), ("duc", "BC-JAN")}
    assert rows("klass=bc-jan") == {("nhung", "BC-JAN"), ("duc", "BC-JAN")}  # any case
    assert rows("status=completed&q=hv") == {("nhung", "BC-JAN"), ("ung", "BC-MAR")}
    assert rows("status=not-completed&q=hv") == {("duc", "BC-JAN"), ("duc", "BC-MAR")}
    assert rows("status=in-progress&q=hv") == {("ung", "BC-NOW")}
    # The person, without diacritics, in any case, by login, several words.
    assert rows("q=nguyen+thi") == {("nhung", "BC-JAN")}
    assert rows("q=NHUNG") == {("nhung", "BC-JAN")}
    assert rows("q=duc") == {("duc", "BC-JAN"), ("duc", "BC-MAR")}  # đ folds to d
    assert rows("q=Đức") == {("duc", "BC-JAN"), ("duc", "BC-MAR")}
    assert rows("q=le+ung") == {("ung", "BC-MAR"), ("ung", "BC-NOW")}
    assert rows("q=hv-duc") == {("duc", "BC-JAN"), ("duc", "BC-MAR")}
    assert rows("q=hong+pham") == set()
    # The period is on the class end date, both ends included.
    assert rows("from=01/03/2026&to=06/03/2026&q=hv") == {("duc", "BC-MAR"), ("ung", "BC-MAR")}
    assert rows("from=2026-01-09&to=2026-01-09&q=hv") == {("nhung", "BC-JAN"), ("duc", "BC-JAN")}
    assert rows("to=31/12/2025&q=hv") == set()
    assert rows(f"from={today():%d/%m/%Y}&q=hv") == {("ung", "BC-NOW")}
    # Together.
    assert rows("module=doi-ngoai-nhan-dan&status=not-completed&q=duc") == {("duc", "BC-JAN")}

    html = html_of(client, "/reports/records?klass=BC-JAN")
    assert "Tải CSV" in html
    assert 'href="/reports/records.csv?klass=BC-JAN"' in html
    assert 'href="/reports/records.xlsx?klass=BC-JAN"' in html
    table = html.split("<tbody>", 1)[1]
    assert "9,25" in table
    assert "100%" in table
    assert "05/01/2026 – 09/01/2026" in table  # dates dd/mm/yyyy
    assert '<span class="done">Hoàn thành</span>' in table
    assert "<td>Chưa hoàn thành</td>" in table
    assert "Đối ngoại nhân dân" in table or "đối ngoại nhân dân" in table  # module title
    html = html_of(client, "/reports/records?klass=BC-NOW")
    assert "<td>Đang học</td>" in html.split("<tbody>", 1)[1]


def test_a_period_starts_at_its_first_enrolment_even_one_made_late(
    client, login, admin, catalogue, create_user, unit
):
    """The walk of a period starts at the smallest enrolment id of its classes: a learner added
    late to an earlier class (a higher id) and the period's own enrolments are all found; a
    period without enrolments is empty, not an error."""
    p, c = catalogue
    late = create_user("hv-muon", full_name="Trần Văn Muộn", unit=unit("CM-SNV"))
    enrol(c["jan"], late)  # enrolled after the March class's learners
    p = {**p, "muon": late}

    def first_of(klass) -> int:
        return db.session.scalar(
            select(func.min(Enrolment.id)).where(Enrolment.class_id == klass.id)
        )

    # At or before each class's first enrolment (other tests' committed classes may share the
    # period); never after it, or its first learners would be missed.
    first_mar = records.first_enrolment_id(date(2026, 3, 1), date(2026, 3, 31))
    assert first_mar is not None
    assert first_mar <= first_of(c["mar"])
    first_jan = records.first_enrolment_id(date(2026, 1, 1), date(2026, 1, 31))
    assert first_jan is not None
    assert first_jan <= first_of(c["jan"]) < first_of(c["mar"])
    assert records.first_enrolment_id(date(2099, 1, 1), None) is None
    login(admin)
    # Each class by its code (unique): other tests' committed records may share the period and
    # fill page 1, and their learners' logins may hold the same words.
    jan_url = "/reports/records?from=01/01/2026&to=31/01/2026&klass=BC-JAN"
    jan = pairs(client, jan_url, p)
    assert jan == {("nhung", "BC-JAN"), ("duc", "BC-JAN"), ("muon", "BC-JAN")}
    mar_url = "/reports/records?from=01/01/2026&to=31/03/2026&klass=BC-MAR"
    assert pairs(client, mar_url, p) == {("duc", "BC-MAR"), ("ung", "BC-MAR")}
    late_url = "/reports/records?from=01/01/2026&to=31/03/2026&klass=BC-JAN"
    assert pairs(client, late_url, p) == jan
    assert pairs(client, "/reports/records?from=01/01/2099&klass=BC-JAN", p) == set()


def test_certificate_number_shown(client, login, admin, catalogue):
    p, k = catalogue
    cert = certificates.issue(Actor(None), k["jan"], p["nhung"], utcnow())
    login(admin)
    html = html_of(client, "/reports/records?klass=BC-JAN")
    assert cert.number_label in html
    certificates.revoke(Actor(admin), cert, RevokeReason.error, "", utcnow())
    html = html_of(client, "/reports/records?klass=BC-JAN")
    assert cert.number_label not in html  # only a valid certificate counts


def test_bad_filters_are_explained(client, login, admin):
    login(admin)
    html = html_of(client, "/reports/records?from=31/02/2026", 400)
    assert "Ngày không hợp lệ" in html
    html = html_of(client, "/reports/records?from=01/03/2026&to=01/02/2026", 400)
    assert "Ngày kết thúc của kỳ không được trước ngày bắt đầu." in html
    html = html_of(client, "/reports/records?unit=KHONG-CO", 400)
    assert "Không có đơn vị mã KHONG-CO." in html
    html = html_of(client, "/reports/records?status=xyz", 400)
    assert "Tình trạng không hợp lệ." in html


@pytest.mark.parametrize(
    "query",
    [
        "q=%25",
        "q=_",
        "q=%27+OR+1%3D1+--",
        "q=" + "a" * 5000,
        "q=%00%01",
        "q=[a-z]*",
        "klass=%25",
        "module=%27",
        "from=99/99/99999",
        "from=01/01/0001",
        "to=" + "9" * 40,
        "unit=%00",
        "status=%C3%28",
    ],
)
def test_odd_input_never_fails(client, login, admin, query):
    login(admin)
    code, _headers, body = get(client, f"/reports/records?{query}")
    assert code in (200, 400), body[:300]
    assert b"Traceback" not in body


def test_empty_state(client, login, admin):
    login(admin)
    html = html_of(client, "/reports/records?klass=KHONG-CO-LOP")
    assert "Không có hồ sơ nào khớp bộ lọc." in html
    assert "Tải CSV" not in html


# -- keyset pagination -----------------------------------------------------------------------


def test_keyset_pagination(client, login, admin, create_user, unit, trainer):
    klass = make_class(trainer, "BC-PAGE")
    people = [
        create_user(f"hv-p{i}", full_name=f"Người Thứ {i}", unit=unit("CM-SNV")) for i in range(7)
    ]
    for person in people:  # one by one: enrolment ids in this order
        enrol(klass, person)
    expected = [p.login for p in people]
    login(admin)
    base = "/reports/records?klass=BC-PAGE&per_page=3"

    html = html_of(client, base)
    first = row_ids(html)
    assert first == expected[:3]
    assert 'rel="prev"' not in html
    next_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "after=" in next_url
    assert "klass=BC-PAGE" in next_url
    assert "page=" not in next_url.replace("per_page", "")  # no OFFSET page numbers

    html = html_of(client, next_url)
    second = row_ids(html)
    assert second == expected[3:6]
    assert not set(first) & set(second)
    next_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    html = html_of(client, next_url)
    third = row_ids(html)
    assert third == expected[6:]
    assert 'rel="next"' not in html

    prev_url = re.search(r'href="([^"]+)" rel="prev"', html).group(1).replace("&amp;", "&")
    html = html_of(client, prev_url)
    assert row_ids(html) == second
    prev_url = re.search(r'href="([^"]+)" rel="prev"', html).group(1).replace("&amp;", "&")
    html = html_of(client, prev_url)
    assert row_ids(html) == first
    assert 'rel="prev"' not in html

    # Past the end: empty, with a way back.
    html = html_of(client, f"{base}&after=999999999")
    assert row_ids(html) == []
    assert 'rel="prev"' in html
    # Cursors that are not ids are ignored (the first page), never an error.
    for bad in ("abc", "-1", "1e9", "1.5", str(10**20), "9" * 18, "9" * 40, "+3+", "%00"):
        for name in ("after", "before"):
            code, _h, body = get(client, f"{base}&{name}={bad}")
            # 400 only for the NUL byte, which the app refuses in any query string.
            assert code == (400 if bad == "%00" else 200), (name, bad, body[:300])
    code, _h, body = get(client, f"{base.replace('per_page=3', 'per_page=1000000')}")
    assert code == 200
    assert row_ids(body.decode()) == expected  # clamped to the largest page


def test_keyset_page_function(catalogue):
    stmt = records.statement(records.Filters(), None).where(
        TrainingClass.code.in_(["BC-JAN", "BC-MAR", "BC-NOW"])
    )
    ids = [r.id for r in db.session.execute(stmt)]
    assert len(ids) == 5
    first = records.page(stmt, size=2)
    assert [r.id for r in first.rows] == ids[:2]
    assert first.prev_before is None
    assert first.next_after == ids[1]
    last = records.page(stmt, after=ids[3], size=2)
    assert [r.id for r in last.rows] == ids[4:]
    assert last.next_after is None
    assert last.prev_before == ids[4]
    back = records.page(stmt, before=ids[4], size=2)
    assert [r.id for r in back.rows] == ids[2:4]
    assert back.next_after == ids[3]
    assert back.prev_before == ids[2]
    assert records.cursor("12") == 12
    assert records.cursor("-1") is None
    assert records.cursor("1" * 19) == records.MAX_ID  # beyond any id: an empty page
    assert records.cursor("1" * 31) is None
    assert records.per_page("0") == 1
    assert records.per_page("x") == records.PER_PAGE


def test_scope_is_people_in_scope(create_user, unit, trainer, db_session):
    """The records' scope (unit ids resolved first, for the planners) is exactly
    policy.people_ids: for several officers, the same people."""
    from learnhub.policy import people_ids

    units_used = ["CM-SNV", "CM-STC", "H-THOI-BINH", "X-THOI-BINH", "X-TRI-PHAI", "CM-LHHN"]
    people = [
        create_user(f"hv-s{i}", full_name=f"Người Số {i}", unit=unit(code))
        for i, code in enumerate(units_used)
    ]
    people.append(create_user("hv-none", full_name="Người Không Đơn Vị"))  # no unit at all
    klass = make_class(trainer, "BC-SCOPE")
    enrol(klass, *people)
    officers = [
        create_user("hr-1", roles=(Role.hr,), scope=unit("CM-SNV")),
        create_user("hr-2", roles=(Role.hr,), scope=unit("X-THOI-BINH")),
        create_user("hr-3", roles=(Role.hr,), scope=unit("CM")),
        create_user("hr-4", roles=(Role.hr,)),
        create_user("hr-5", roles=(Role.learner,)),  # no HR role: nobody
    ]
    enrolled = {p.id for p in people}
    for officer in officers:
        stmt = records.statement(records.Filters(klass="BC-SCOPE"), officer)
        shown = {r.login for r in db_session.execute(stmt)}
        scope = people_ids(officer)
        allowed = enrolled if scope is None else enrolled & set(db_session.scalars(scope))
        assert shown == {p.login for p in people if p.id in allowed}, officer.login


def test_page_statements_do_not_grow_with_rows(
    app, client, login, admin, unit, create_user, trainer
):
    """No N+1: a page of 2 rows and a page of 12 rows take the same number of statements."""
    import sqlalchemy as sa

    klass = make_class(trainer, "BC-N1")
    people = [
        create_user(f"hv-n{i}", full_name=f"Người {i}", unit=unit("CM-SNV")) for i in range(12)
    ]
    enrol(klass, *people)
    complete(klass, people[0])
    login(admin)
    engine = app.extensions["learnhub.engine"]
    counted: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(statement)

    def statements(url: str) -> int:
        counted.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            html_of(client, url)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len([s for s in counted if not s.startswith(("SAVEPOINT", "RELEASE"))])

    statements("/reports/records?klass=BC-N1&per_page=2")  # the signed-in user is cached after
    few = statements("/reports/records?klass=BC-N1&per_page=2")
    many = statements("/reports/records?klass=BC-N1&per_page=12")
    assert few == many
    assert many <= 15
