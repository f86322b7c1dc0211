"""Issue 14, finding 5: one definition of a completion record. /api/v1/completions, the records
page's CSV (and everything else built on reports.records.statement) list the same people with the
same status for the same filters."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnhub import db
from learnhub.attendance.models import Completion
from learnhub.classes.models import ClassStatus
from learnhub.reports import records
from learnhub.timeutil import today
from tests.api import api_get, new_token
from tests.reports.test_records import complete, enrol, make_class

#: The API's spelling of each status, and the CSV's.
API_STATUS = {
    "completed": records.COMPLETED,
    "in_progress": records.IN_PROGRESS,
    "not_completed": records.NOT_COMPLETED,
}
CSV_LOGIN, CSV_CLASS, CSV_STATUS = 1, 5, 10


@pytest.fixture
def world(create_user, unit, trainer, hr, admin):
    """Four classes (their codes start with CR-) and people in two units.

    - CR-ENDED: ended 9/01/2026, open (nobody closed it): an1 completed today, binh did not;
    - CR-CLOSED: ended 6/03/2026 and closed: chi completed, dung did not;
    - CR-RUNNING: runs until 30 days from today, closed early by mistake: em has not completed;
    - CR-NEXT: starts in ten days, of another module: an1 and em enrolled.
    """
    snv, stc = unit("CM-SNV"), unit("CM-STC")
    p = {
        "an1": create_user("cr-an", full_name="Trần Thị Mai An", unit=snv),
        "binh": create_user("cr-binh", full_name="Lê Văn Bình", unit=snv),
        "chi": create_user("cr-chi", full_name="Phạm Thị Chi", unit=stc),
        "dung": create_user("cr-dung", full_name="Võ Văn Dũng", unit=stc),
        "em": create_user("cr-em", full_name="Đặng Thị Em", unit=unit("H-THOI-BINH")),
    }
    ended = make_class(trainer, "CR-ENDED", ends=date(2026, 1, 9))
    closed = make_class(
        trainer, "CR-CLOSED", starts=date(2026, 3, 2), ends=date(2026, 3, 6), title="Lớp đã đóng"
    )
    running = make_class(
        trainer,
        "CR-RUNNING",
        starts=today() - timedelta(days=1),
        ends=today() + timedelta(days=30),
    )
    upcoming = make_class(
        trainer,
        "CR-NEXT",
        slug="quan-ly-to-chuc-pcpnn",
        starts=today() + timedelta(days=10),
        ends=today() + timedelta(days=12),
    )
    enrol(ended, p["an1"], p["binh"])
    enrol(closed, p["chi"], p["dung"])
    enrol(running, p["em"])
    enrol(upcoming, p["an1"], p["em"])
    complete(ended, p["an1"])  # completed today, long after the class ended
    complete(closed, p["chi"])
    # Completed on the last day of the class, late in the evening in Cà Mau (16:30 UTC).
    row = db.session.query(Completion).filter_by(user_id=p["chi"].id).one()
    row.completed_at = datetime(2026, 3, 6, 16, 30)  # noqa: DTZ001 (stored naive UTC)
    closed.status = ClassStatus.closed
    running.status = ClassStatus.closed
    db.session.flush()
    return {
        "people": p,
        "tokens": {"admin": new_token(admin), "hr": new_token(hr)},
        "users": {"admin": admin, "hr": hr},
    }


def _api(client, secret: str, query: dict) -> set[tuple[str, str, str]]:
    """(login, class code, status) of every record the API lists, over all pages."""
    params = "&".join(f"{k}={v}" for k, v in query.items())
    out, cursor = set(), None
    for _ in range(50):
        url = f"/api/v1/completions?limit=500&{params}" + (f"&after={cursor}" if cursor else "")
        status, body, _h = api_get(client, url, secret)
        assert status == 200, (url, body)
        out |= {(i["login"], i["class"], API_STATUS[i["status"]]) for i in body["items"]}
        cursor = body["next"]
        if cursor is None:
            return {row for row in out if row[1].startswith("CR-")}
    raise AssertionError("pagination does not end")


def _csv(client, query: dict) -> set[tuple[str, str, str]]:
    """(login, class code, status) of every row of the records CSV."""
    with client.get("/reports/records.csv", query_string=query) as response:
        assert response.status_code == 200, (query, response.get_data()[:300])
        data = response.get_data()
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))[1:]
    by_text = {text: status for status, text in records.STATUS_TEXT.items()}
    return {
        (r[CSV_LOGIN], r[CSV_CLASS], by_text[r[CSV_STATUS]])
        for r in rows
        if r and r[CSV_CLASS].startswith("CR-")
    }


def test_finding_5_api_and_records_csv_agree_on_status_and_period(client, login, world):
    """Finding 5: the API said "not completed" for a closed class that is still running and "in
    progress" for an ended class nobody closed, and put a completion in the period of the day it
    was recorded; the records (CSV) go by the class's end date."""
    login(world["users"]["admin"])
    secret = world["tokens"]["admin"]
    everything = _api(client, secret, {})
    assert everything == _csv(client, {})
    assert everything == {
        ("cr-an", "CR-ENDED", records.COMPLETED),
        ("cr-binh", "CR-ENDED", records.NOT_COMPLETED),  # ended, though nobody closed it
        ("cr-chi", "CR-CLOSED", records.COMPLETED),
        ("cr-dung", "CR-CLOSED", records.NOT_COMPLETED),
        ("cr-em", "CR-RUNNING", records.IN_PROGRESS),  # closed, but still running
        ("cr-an", "CR-NEXT", records.IN_PROGRESS),
        ("cr-em", "CR-NEXT", records.IN_PROGRESS),
    }
    # January's records are those of the class that ended in January, including the person
    # who completed it (today) after it ended.
    january = {("cr-an", "CR-ENDED", records.COMPLETED), ("cr-binh", "CR-ENDED", "not-completed")}
    assert _api(client, secret, {"from": "2026-01-01", "to": "2026-01-31"}) == january
    assert _csv(client, {"from": "01/01/2026", "to": "31/01/2026"}) == january
    # The closed class's records fall on the day it ended (6/03), whatever the hour.
    march = {("cr-chi", "CR-CLOSED", "completed"), ("cr-dung", "CR-CLOSED", "not-completed")}
    assert _api(client, secret, {"from": "2026-03-06", "to": "2026-03-06"}) == march
    assert _csv(client, {"from": "06/03/2026", "to": "06/03/2026"}) == march
    on = today().isoformat()
    assert _api(client, secret, {"from": on, "to": on}) == set()
    for api_status, status in API_STATUS.items():
        assert _api(client, secret, {"status": api_status}) == _csv(client, {"status": status})


def _api_query(f: dict) -> dict:
    out = {k: v for k, v in f.items() if v and k not in ("from", "to", "status")}
    for name in ("from", "to"):
        if f[name]:
            out[name] = f[name].isoformat()
    if f["status"]:
        out["status"] = next(k for k, v in API_STATUS.items() if v == f["status"])
    if "klass" in out:
        out["class"] = out.pop("klass")
    return out


def _csv_query(f: dict) -> dict:
    out = {k: v for k, v in f.items() if v and k not in ("from", "to")}
    for name in ("from", "to"):
        if f[name]:
            out[name] = f[name].strftime("%d/%m/%Y")
    return out


_DAYS = [
    date(2026, 1, 1),
    date(2026, 1, 9),
    date(2026, 1, 10),
    date(2026, 3, 6),
    date(2026, 6, 30),
    date(2026, 12, 2),
    date(2026, 12, 31),
    date(2027, 12, 31),
]

filters = st.fixed_dictionaries(
    {
        "from": st.one_of(st.none(), st.sampled_from(_DAYS)),
        "to": st.one_of(st.none(), st.sampled_from(_DAYS)),
        "unit": st.sampled_from(["", "CM", "CM-SNV", "CM-STC", "X-THOI-BINH"]),
        "module": st.sampled_from(["", "doi-ngoai-nhan-dan", "quan-ly-to-chuc-pcpnn"]),
        "klass": st.sampled_from(["", "CR-ENDED", "cr-closed", "CR-RUNNING", "CR-NEXT"]),
        "status": st.sampled_from(["", *records.STATUSES]),
        "q": st.one_of(
            st.sampled_from(["", "thi", "Thị", "an", "cr-em", "DŨNG", "văn bình", "zz"]),
            st.text(alphabet="abcdeilmnhtâêôưđ -", max_size=6),
        ),
        "viewer": st.sampled_from(["admin", "hr"]),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(f=filters)
def test_api_and_records_csv_list_the_same_people_with_the_same_status(app, login, world, f):
    """Acceptance: for random filters (period, unit, module, class, status, person), the API
    and the records CSV list the same people with the same status, for a scoped HR officer's
    token and session as for an administrator's."""
    if f["from"] and f["to"] and f["from"] > f["to"]:
        f["from"], f["to"] = f["to"], f["from"]
    viewer = f.pop("viewer")
    browsers = world.setdefault("browsers", {})
    if viewer not in browsers:
        browsers[viewer] = login(world["users"][viewer], c=app.test_client())
    browser = browsers[viewer]
    api = _api(browser, world["tokens"][viewer], _api_query(f))
    assert api == _csv(browser, _csv_query(f))
