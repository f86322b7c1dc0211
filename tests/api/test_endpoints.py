"""The endpoints: what they answer, the owner's scope (completions and certificates), filters,
and keyset pagination (no overlap, no gaps, tampered cursors refused)."""

from datetime import date, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.attendance.models import Completion
from learnhub.audit.services import Actor
from learnhub.certificates.models import Status
from learnhub.classes import services as classes
from learnhub.classes.models import ClassStatus
from learnhub.timeutil import today
from tests.api import add_certificate, api_get, new_token
from tests.certificates.conftest import complete, open_class


@pytest.fixture
def world(create_user, unit, trainer, hr, admin):
    """Two units' people in two classes: A (CM-SNV, the HR officer's scope) and B (CM-STC).

    a1 completed class 1 and holds a certificate; a2 is enrolled in class 1 only; b1 completed
    class 1 and holds a certificate; b2 is in class 2 (closed, not completed); t1 is in a unit
    merged into X-THOI-BINH and completed class 2.
    """
    snv, stc = unit("CM-SNV"), unit("CM-STC")
    people = {
        "a1": create_user("a1", full_name="Trần Thị Mai", unit=snv),
        "a2": create_user("a2", full_name="Lê Văn Hùng", unit=snv),
        "b1": create_user("b1", full_name="Phạm Minh Tâm", unit=stc),
        "b2": create_user("b2", full_name="Võ Thị Lan", unit=stc),
        "t1": create_user("t1", full_name="Đặng Văn Thới", unit=unit("H-THOI-BINH")),
    }
    one = open_class(trainer, "API-2026-01")
    two = open_class(trainer, "API-2026-02")
    complete(one, people["a1"], score="8.5")
    classes.enrol(Actor(None), one, [people["a2"]])
    complete(one, people["b1"], score="6")
    classes.enrol(Actor(None), two, [people["b2"]])
    complete(two, people["t1"], score=None)
    two.status = ClassStatus.closed
    certs = {
        "a1": add_certificate(one, people["a1"]),
        "b1": add_certificate(one, people["b1"], year=2025),
    }
    db.session.flush()
    return {
        "people": people,
        "classes": (one, two),
        "certs": certs,
        "hr": new_token(hr),
        "admin": new_token(admin),
    }


def _logins(body) -> set[str]:
    return {item["login"] for item in body["items"]}


def _all_pages(client, url: str, secret: str) -> list[dict]:
    items, cursor = [], None
    for _ in range(100):
        sep = "&" if "?" in url else "?"
        page_url = f"{url}{sep}after={cursor}" if cursor else url
        status, body, _h = api_get(client, page_url, secret)
        assert status == 200, body
        items.extend(body["items"])
        cursor = body["next"]
        if cursor is None:
            return items
    raise AssertionError("pagination does not end")


# -- units -------------------------------------------------------------------------------------


def test_unit_tree(client, world):
    status, body, _h = api_get(client, "/api/v1/units", world["hr"])
    assert status == 200
    units = {u["code"]: u for u in body["items"]}
    assert units["CM-SNV"]["parent"] is not None
    assert units["CM-SNV"]["kind"] == "department"
    assert units["H-THOI-BINH"]["successor"] == "X-THOI-BINH"
    assert units["H-THOI-BINH"]["valid_to"] == "2025-06-30"
    assert units["CM"]["parent"] is None
    order = [u["code"] for u in body["items"]]
    for code, unit in units.items():  # parents come before their children
        if unit["parent"]:
            assert order.index(unit["parent"]) < order.index(code)


# -- completions -------------------------------------------------------------------------------


def test_hr_token_sees_only_its_units_people(client, world):
    status, body, _h = api_get(client, "/api/v1/completions?limit=500", world["hr"])
    assert status == 200
    assert _logins(body) == {"a1", "a2"}
    # Asking for another unit gives nothing, never its people.
    for unit in ("CM-STC", "X-THOI-BINH", "CM"):
        status, body, _h = api_get(client, f"/api/v1/completions?unit={unit}", world["hr"])
        assert status == 200
        assert _logins(body) <= {"a1", "a2"}
    status, body, _h = api_get(client, "/api/v1/completions?unit=CM-STC", world["hr"])
    assert body["items"] == []


def test_admin_token_sees_everyone(client, world):
    status, body, _h = api_get(client, "/api/v1/completions?limit=500", world["admin"])
    assert status == 200
    assert {"a1", "a2", "b1", "b2", "t1"} <= _logins(body)


def test_unscoped_hr_sees_everyone(client, create_user, world):
    everywhere = create_user("hr-all", roles=(Role.hr,))
    _s, body, _h = api_get(client, "/api/v1/completions?limit=500", new_token(everywhere))
    assert {"a1", "a2", "b1", "b2", "t1"} <= _logins(body)


def test_completion_record_fields(client, world):
    _s, body, _h = api_get(client, "/api/v1/completions?class=API-2026-01", world["admin"])
    rows = {item["login"]: item for item in body["items"]}
    a1 = rows["a1"]
    assert a1["full_name"] == "Trần Thị Mai"
    assert a1["unit"] == "CM-SNV"
    assert a1["class"] == "API-2026-01"
    assert a1["module"] == "doi-ngoai-nhan-dan"
    assert a1["status"] == "completed"
    assert a1["score"] == 8.5
    assert a1["attendance_share"] == 1.0
    assert a1["certificate_number"] == world["certs"]["a1"].number_label
    completed = datetime.fromisoformat(a1["completed_at"])
    assert completed.utcoffset() == timedelta(hours=7)
    a2 = rows["a2"]
    assert a2["status"] == "not_completed"  # the class ended on 9/01/2026
    assert a2["completed_at"] is None
    assert a2["score"] is None
    assert a2["certificate_number"] is None


def test_a_revoked_certificate_is_not_a_certificate_number(client, world):
    world["certs"]["a1"].status = Status.revoked
    db.session.flush()
    _s, body, _h = api_get(client, "/api/v1/completions?status=completed", world["hr"])
    assert [item["certificate_number"] for item in body["items"]] == [None]


def test_completion_filters(client, world):
    admin = world["admin"]

    def logins(query: str) -> set[str]:
        status, body, _h = api_get(client, f"/api/v1/completions?{query}", admin)
        assert status == 200, (query, body)
        return _logins(body) & set(world["people"])

    assert logins("unit=CM-STC") == {"b1", "b2"}
    assert logins("unit=X-THOI-BINH") == {"t1"}  # merged units report under their successor
    assert logins("class=API-2026-02") == {"b2", "t1"}
    assert logins("module=doi-ngoai-nhan-dan") == {"a1", "a2", "b1", "b2", "t1"}
    assert logins("status=completed") == {"a1", "b1", "t1"}
    # Both classes ended on 9/01/2026: whoever has not completed did not (closed or not).
    assert logins("status=in_progress") == set()
    assert logins("status=not_completed") == {"a2", "b2"}
    assert logins("q=thi") == {"a1", "b2"}  # Trần Thị Mai, Võ Thị Lan
    assert logins("q=TÂM&status=completed") == {"b1"}
    assert logins("class=api-2026-02") == {"b2", "t1"}  # a class code, ignoring case
    # The period is on the day the class ends (5–9/01/2026), completed or not.
    now = today()
    assert logins(f"from={now}&to={now}") == set()
    assert logins("from=2026-01-09&to=2026-01-09&status=completed") == {"a1", "b1", "t1"}
    assert logins("from=2026-01-09&to=2026-01-09&status=not_completed") == {"a2", "b2"}
    assert logins("from=2026-01-10") == set()
    assert logins("to=2026-01-08") == set()
    assert logins("from=0001-01-01&to=9999-12-31") == {"a1", "a2", "b1", "b2", "t1"}


def test_a_completion_counts_in_the_period_its_class_ends(client, world):
    """Whatever the hour it was recorded (18:00 UTC on 31/12 is 01/01 in Cà Mau), a completion
    is in the period of its class's end date, like every other record."""
    a1 = world["people"]["a1"]
    row = db.session.scalars(select(Completion).where(Completion.user_id == a1.id)).one()
    row.completed_at = datetime(2025, 12, 31, 18, 0)  # noqa: DTZ001 (stored naive UTC)
    db.session.flush()
    _s, body, _h = api_get(client, "/api/v1/completions?from=2026-01-01&to=2026-01-01", world["hr"])
    assert _logins(body) == set()
    _s, body, _h = api_get(client, "/api/v1/completions?from=2026-01-09&to=2026-01-09", world["hr"])
    assert _logins(body) == {"a1", "a2"}
    assert body["items"][0]["completed_at"] == "2026-01-01T01:00:00+07:00"


@pytest.mark.parametrize(
    "query",
    [
        "unit=NO-SUCH-UNIT",
        "class=NO-SUCH-CLASS",
        "module=no-such-module",
        "status=done",
        "from=2026-13-01",
        "from=05/01/2026",
        "from=20260105",
        "to=yesterday",
        "from=2026-02-01&to=2026-01-01",
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=abc",
        "limit=1e3",
        "limit=" + "9" * 30,
        "unit=" + "X" * 41,
    ],
)
def test_bad_completion_parameters_get_400(client, world, query):
    status, body, _h = api_get(client, f"/api/v1/completions?{query}", world["hr"])
    assert status == 400, query
    assert set(body) == {"error"}
    assert body["error"]


def test_nul_in_a_parameter_gets_400(client, world):
    status, body, _h = api_get(client, "/api/v1/completions?unit=a%00b", world["hr"])
    assert status == 400
    assert "error" in body


# -- certificates ------------------------------------------------------------------------------


def test_certificates_follow_the_owners_scope(client, world):
    status, body, _h = api_get(client, "/api/v1/certificates", world["hr"])
    assert status == 200
    assert _logins(body) == {"a1"}
    assert body["next"] is None
    _s, body, _h = api_get(client, "/api/v1/certificates?class=API-2026-01", world["hr"])
    assert _logins(body) == {"a1"}
    _s, body, _h = api_get(client, "/api/v1/certificates?year=2025", world["hr"])
    assert body["items"] == []
    _s, body, _h = api_get(client, "/api/v1/certificates", world["admin"])
    assert {"a1", "b1"} <= _logins(body)


def test_certificate_fields_and_filters(client, world):
    cert = world["certs"]["a1"]
    _s, body, _h = api_get(client, "/api/v1/certificates?status=valid", world["hr"])
    (item,) = body["items"]
    assert item["id"] == cert.id
    assert item["number"] == cert.number_label
    assert item["serial"] == cert.serial
    assert item["kind"] == "certificate"
    assert item["status"] == "valid"
    assert item["year"] == 2026
    assert item["issued_on"] == "2026-01-10"
    assert item["valid_until"] is None
    assert item["revoked_at"] is None
    assert item["unit"] == "CM-SNV"
    assert item["class"] == "API-2026-01"
    assert item["verify_url"].endswith(f"/verify/{cert.code}")

    cert.valid_until = date(2026, 1, 31)
    db.session.flush()
    _s, body, _h = api_get(client, "/api/v1/certificates?status=expired", world["hr"])
    assert [i["status"] for i in body["items"]] == ["expired"]
    _s, body, _h = api_get(client, "/api/v1/certificates?status=valid", world["hr"])
    assert body["items"] == []

    cert.status = Status.revoked
    cert.revoked_at = datetime(2026, 2, 1, 3, 0)  # noqa: DTZ001 (stored naive UTC)
    db.session.flush()
    _s, body, _h = api_get(client, "/api/v1/certificates?status=revoked", world["hr"])
    assert body["items"][0]["revoked_at"] == "2026-02-01T10:00:00+07:00"
    _s, body, _h = api_get(client, "/api/v1/certificates?status=expired", world["hr"])
    assert body["items"] == []


@pytest.mark.parametrize(
    "query", ["year=1999", "year=2101", "year=abc", "status=lost", "class=NOPE", "limit=0"]
)
def test_bad_certificate_parameters_get_400(client, world, query):
    status, body, _h = api_get(client, f"/api/v1/certificates?{query}", world["hr"])
    assert status == 400, query
    assert set(body) == {"error"}


# -- pagination --------------------------------------------------------------------------------


@pytest.fixture
def many(create_user, unit, trainer, world):
    """Eleven more completion records and certificates in the HR officer's unit."""
    klass = open_class(trainer, "API-2026-03")
    for n in range(11):
        person = create_user(f"many{n:02d}", unit=unit("CM-SNV"))
        complete(klass, person)
        add_certificate(klass, person)
    return world


@pytest.mark.parametrize("resource", ["completions", "certificates"])
def test_pages_do_not_overlap_and_cover_everything(client, many, resource):
    secret = many["hr"]
    _s, whole, _h = api_get(client, f"/api/v1/{resource}?limit=500", secret)
    assert whole["next"] is None
    expected = [item["id"] for item in whole["items"]]
    assert expected == sorted(expected)
    assert len(expected) >= 12

    seen = []
    cursor = None
    sizes = []
    while True:
        url = f"/api/v1/{resource}?limit=5" + (f"&after={cursor}" if cursor else "")
        status, body, _h = api_get(client, url, secret)
        assert status == 200
        sizes.append(len(body["items"]))
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == expected  # in order, each once
    assert len(seen) == len(set(seen))
    assert all(size == 5 for size in sizes[:-1])
    assert 1 <= sizes[-1] <= 5


def test_an_exact_last_page_has_no_next(client, many):
    _s, whole, _h = api_get(client, "/api/v1/completions?limit=500", many["hr"])
    count = len(whole["items"])
    _s, body, _h = api_get(client, f"/api/v1/completions?limit={count}", many["hr"])
    assert len(body["items"]) == count
    assert body["next"] is None


def test_pagination_keeps_filters(client, many):
    items = _all_pages(client, "/api/v1/completions?limit=2&status=completed", many["hr"])
    assert {i["status"] for i in items} == {"completed"}
    assert len(items) == 12  # a1 and the eleven


def test_tampered_cursors_get_400(app, client, many):
    secret = many["hr"]
    _s, first, _h = api_get(client, "/api/v1/completions?limit=3", secret)
    cursor = first["next"]
    assert cursor
    forged = URLSafeSerializer("not-the-key", salt="learnhub.api.cursor").dumps(
        ["completions", cursor.split(".")[0], 0]
    )
    wrong_shape = URLSafeSerializer(app.config["SECRET_KEY"], salt="learnhub.api.cursor").dumps(
        {"id": 1}
    )
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    bad = [
        flipped,
        cursor[:-3],
        "x" + cursor,
        forged,
        wrong_shape,
        "12",
        "-1",
        "null",
        "A" * 201,
    ]
    for after in bad:
        status, body, _h = api_get(client, f"/api/v1/completions?limit=3&after={after}", secret)
        assert status == 400, after
        assert set(body) == {"error"}
    # A cursor belongs to its resource and its filters.
    status, _b, _h = api_get(client, f"/api/v1/certificates?limit=3&after={cursor}", secret)
    assert status == 400
    status, _b, _h = api_get(
        client, f"/api/v1/completions?limit=3&status=completed&after={cursor}", secret
    )
    assert status == 400
    # The page size may change between pages.
    status, _b, _h = api_get(client, f"/api/v1/completions?limit=7&after={cursor}", secret)
    assert status == 200


def test_a_cursor_never_widens_the_scope(client, many):
    """An admin's cursor replayed with an HR token still only yields the HR officer's people."""
    _s, body, _h = api_get(client, "/api/v1/completions?limit=1", many["admin"])
    cursor = body["next"]
    status, body, _h = api_get(client, f"/api/v1/completions?after={cursor}", many["hr"])
    assert status == 200
    assert _logins(body) <= {"a1", "a2"} | {f"many{n:02d}" for n in range(11)}
