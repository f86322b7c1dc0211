"""The periodic report by unit (/reports/units, .xlsx, .pdf): periods (the 15/12–14/12 reporting
year), roll-up along the tree and across mergers, HR scope, totals, the figures' definitions,
the documents read back, and a statement count that does not grow with the number of units."""

import io
import re
import secrets
import unicodedata
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import event, func, select

from learnhub import db, pdf
from learnhub.attendance import services as attendance
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate, Kind
from learnhub.certificates.models import Status as CertStatus
from learnhub.classes import services as classes
from learnhub.classes.models import Enrolment
from learnhub.orgunits import services as units
from learnhub.orgunits.models import UnitKind
from learnhub.reports import periodic
from learnhub.timeutil import utcnow

# Years far from the other tests' classes (2026), so rows committed elsewhere cannot interfere.
YEAR = 2019


# -- helpers (also used by test_history and test_dossier) ------------------------------------


def make_class(trainer, code, ends, *, starts=None, slug="doi-ngoai-nhan-dan", sessions=2):
    """A class of *slug* ending on *ends*, with *sessions* daily sessions of 4 periods (by
    default, the class starts so that the last one falls on *ends*)."""
    starts = starts or ends - timedelta(days=max(sessions - 1, 0))
    klass = classes.open_class(
        Actor(trainer),
        by_slug(slug),
        classes.ClassData(
            code=code,
            title=f"Lớp bồi dưỡng {code}",
            starts_on=starts,
            ends_on=ends,
        ),
        [trainer],
    )
    if sessions:
        classes.add_sessions(Actor(trainer), klass, starts, sessions, time(8), time(11), 4)
    return klass


def enrol(klass, *people):
    classes.enrol(Actor(None), klass, list(people))


def complete(klass, user, score="8.5"):
    db.session.add(
        Completion(
            class_id=klass.id,
            user_id=user.id,
            completed_at=utcnow(),
            rule={},
            score=Decimal(score) if score else None,
            attendance_share=Decimal(1),
        )
    )
    db.session.flush()


def attend(klass, user, *statuses):
    """Records written directly (fast), then the enrolment's counters as record() keeps them."""
    for session, status in zip(klass.sessions, statuses, strict=False):
        db.session.add(
            AttendanceRecord(
                session_id=session.id,
                user_id=user.id,
                status=status,
                method=Method.rollcall,
            )
        )
    db.session.flush()
    attendance.recount(
        db.session.scalars(
            select(Enrolment).where(Enrolment.class_id == klass.id, Enrolment.user_id == user.id)
        ).one()
    )


def certify(klass, user, status=CertStatus.valid, kind=Kind.certificate, score="8,50"):
    """A register entry written directly (the issue path and its PDF are tested with the
    certificates; reports only read the rows)."""
    issuer = certificates.default_issuer()
    year = klass.ends_on.year
    last = db.session.scalar(
        select(func.max(Certificate.register_no)).where(
            Certificate.issuer_id == issuer.id, Certificate.year == year
        )
    )
    number = (last or 0) + 1
    code = secrets.token_hex(10).upper()
    symbol = "GCN" if kind == Kind.certificate else "GXN"
    cert = Certificate(
        code=code,
        serial=f"{code[:5]}-{code[5:10]}",
        kind=kind,
        issuer_id=issuer.id,
        year=year,
        register_no=number,
        number_label=f"{number:03d}/{year}/{symbol}-{issuer.code}",
        user_id=user.id,
        class_id=klass.id,
        data={
            "full_name": user.full_name,
            "birth_date": None,
            "unit": user.unit.name if user.unit else "",
            "class_code": klass.code,
            "score": score,
            "band": "Giỏi" if score else "",
        },
        issued_on=klass.ends_on,
        status=status,
        pdf_sha256="0" * 64,
        pdf_size=0,
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def new_unit(code, name, parent, kind=UnitKind.office, **kw):
    unit, _changed = units.save_unit(
        SYSTEM, units.UnitData(code=code, name=name, kind=kind, parent_code=parent, **kw)
    )
    return unit


def get(client, url):
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data()


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def sheet_rows(data: bytes, index: int = 0) -> list[list]:
    """The rows of a sheet from its header row (the first whose first cell is "STT") on."""
    book = load_workbook(io.BytesIO(data))
    try:
        rows = [list(r) for r in book.worksheets[index].iter_rows()]
    finally:
        book.close()
    start = next(i for i, r in enumerate(rows) if r and r[0].value == "STT")
    return [r for r in rows[start:] if any(c.value is not None for c in r)]


def by_name(report, name):
    return next(r for r in report.rows if r.name == name)


def row_cells(html: str, key: str) -> list[str]:
    """The cell texts of the unit table's row for *key* (a unit code, or "total")."""
    found = re.search(rf'<tr[^>]*data-unit="{re.escape(key)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, key
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


YEAR_ARGS = f"period=year&year={YEAR}"


@pytest.fixture
def two_units(create_user, unit, trainer):
    """A class of YEAR with a person of Sở Nội vụ and one of Xã Thới Bình."""
    snv = create_user(full_name="Nguyễn Thị Hồng Nhung", unit=unit("CM-SNV"))
    tb = create_user(full_name="Trần Văn Thới", unit=unit("X-THOI-BINH"))
    klass = make_class(trainer, "BC-2019-01", date(YEAR, 6, 5))
    enrol(klass, snv, tb)
    complete(klass, snv, "8.5")
    complete(klass, tb, "7.0")
    return klass, snv, tb


# -- periods ---------------------------------------------------------------------------------


def test_reporting_year_bounds():
    assert periodic.reporting_year(2026) == periodic.Period(
        "report", date(2025, 12, 15), date(2026, 12, 14), 2026
    )
    assert periodic.reporting_year_of(date(2025, 12, 14)) == 2025
    assert periodic.reporting_year_of(date(2025, 12, 15)) == 2026
    assert periodic.reporting_year_of(date(2026, 1, 1)) == 2026
    assert periodic.calendar_year(2025) == periodic.Period(
        "year", date(2025, 1, 1), date(2025, 12, 31), 2025
    )


def test_parse_period(app):
    with app.test_request_context():
        period, errors = periodic.parse_period({"period": "report", "year": "2025"})
        assert (period.start, period.end, errors) == (date(2024, 12, 15), date(2025, 12, 14), [])
        period, errors = periodic.parse_period(
            {"period": "range", "start": "01/03/2025", "end": "30/06/2025"}
        )
        assert (period.start, period.end, errors) == (date(2025, 3, 1), date(2025, 6, 30), [])
        for bad in (
            {"period": "range", "start": "31/02/2025", "end": "01/03/2025"},
            {"period": "range", "start": "02/03/2025", "end": "01/03/2025"},
            {"period": "range", "start": "", "end": ""},
            {"period": "year", "year": "1999"},
            {"period": "year", "year": "20x5"},
            {"period": "week"},
        ):
            period, errors = periodic.parse_period(bad)
            assert errors, bad
            assert period == periodic.default_period()


def test_reporting_year_boundaries_in_the_report(admin, create_user, unit, trainer):
    person = create_user(full_name="Lê Văn Ửng", unit=unit("CM-SNV"))
    last_day = make_class(trainer, "BC-RY-1", date(2021, 12, 14), starts=date(2021, 12, 10))
    first_day = make_class(trainer, "BC-RY-2", date(2021, 12, 15), starts=date(2021, 12, 13))
    enrol(last_day, person)
    enrol(first_day, person)
    complete(first_day, person)

    def figures(period):
        report = periodic.build(admin, period, "CM-UBND")
        return report.total.enrolments, report.total.completed

    assert figures(periodic.reporting_year(2021)) == (1, 0)  # 14/12/2021 is in 2021
    assert figures(periodic.reporting_year(2022)) == (1, 1)  # 15/12/2021 starts 2022
    assert figures(periodic.calendar_year(2021)) == (2, 1)
    one_day = periodic.Period("range", date(2021, 12, 15), date(2021, 12, 15))
    assert figures(one_day) == (1, 1)


# -- roll-up, scope, totals ------------------------------------------------------------------


def test_former_district_reports_under_its_successor(admin, create_user, unit, trainer):
    # A commune of the former Huyện Thới Bình (merged into Xã Thới Bình), one below it without
    # a successor of its own, the district itself, and the former province (merged into CM).
    old = new_unit(
        "X-TB-CU-TEST",
        "Xã Tân Phú (cũ)",
        "H-THOI-BINH",
        kind=UnitKind.commune,
        valid_to=date(2025, 6, 30),
        successor_code="X-THOI-BINH",
    )
    below = new_unit(
        "X-TB-CU-TEST2", "Xã Biển Bạch Đông (cũ)", "H-THOI-BINH", valid_to=date(2025, 6, 30)
    )
    people = [
        create_user(full_name=f"Học viên {i}", unit=u)
        for i, u in enumerate(
            [old, below, unit("H-THOI-BINH"), unit("X-THOI-BINH"), unit("CM-CU")], start=1
        )
    ]
    klass = make_class(trainer, "BC-TB-1", date(YEAR, 3, 1))
    enrol(klass, *people)
    report = periodic.build(admin, periodic.calendar_year(YEAR))
    assert report.parent.code == "CM"
    thoi_binh = next(r for r in report.rows if r.key == "X-THOI-BINH")
    assert (thoi_binh.tally.persons, thoi_binh.tally.enrolments) == (4, 4)
    direct = report.rows[0]
    assert direct.direct
    assert direct.key == "CM"
    assert direct.name == "Thuộc trực tiếp Tỉnh Cà Mau"
    assert direct.tally.persons >= 1  # the former province's person
    codes = {r.key for r in report.rows}
    assert not codes & {"H-THOI-BINH", "X-TB-CU-TEST", "CM-CU"}  # only current units


def test_hr_sees_only_their_units(client, login, hr, admin, two_units):
    login(hr)
    status, _h, body = get(client, f"/reports/units?{YEAR_ARGS}")
    assert status == 200
    html = body.decode()
    assert "Sở Nội vụ" in html
    assert "Xã Thới Bình" not in html
    assert "Trần Văn Thới" not in html
    assert row_cells(html, "total")[1:4] == ["1", "1", "1"]  # persons, lượt, completed
    for url in ("/reports/units?unit=X-THOI-BINH", "/reports/units?unit=CM"):
        assert get(client, f"{url}&{YEAR_ARGS}")[0] == 404
    assert get(client, "/reports/units.xlsx?unit=X-THOI-BINH")[0] == 404
    assert get(client, "/reports/units.pdf?unit=CM")[0] == 404

    status, headers, data = get(client, f"/reports/units.xlsx?{YEAR_ARGS}")
    assert status == 200
    assert headers["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = sheet_rows(data)
    names = [r[2].value for r in rows[1:]]
    assert "Xã Thới Bình" not in names
    assert rows[-1][2].value == "Tổng cộng"
    assert rows[-1][3].value == 1

    status, headers, data = get(client, f"/reports/units.pdf?{YEAR_ARGS}")
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    text = pdf_text(data)
    assert "Sở Nội vụ" in text
    assert "Xã Thới Bình" not in text

    # The admin sees both units; the service agrees with the page.
    report = periodic.build(admin, periodic.calendar_year(YEAR))
    assert next(r for r in report.rows if r.key == "X-THOI-BINH").tally.persons == 1


def test_learner_and_trainer_are_refused(app, client, login, learner, trainer):
    login(learner)
    assert get(client, "/reports/units")[0] == 403
    assert get(client, "/reports/units.xlsx")[0] == 403
    other = login(trainer, c=app.test_client())
    assert get(other, "/reports/units.pdf")[0] == 403
    assert get(app.test_client(), "/reports/units")[0] == 302


def test_totals_equal_the_sum_of_rows(client, login, admin, create_user, unit, trainer):
    codes = ["CM-SNV", "CM-LHHN", "X-THOI-BINH", "X-TRI-PHAI", "CM-TU"]
    people = [create_user(full_name=f"Người {c}", unit=unit(c)) for c in codes]
    first = make_class(trainer, "BC-SUM-1", date(YEAR, 4, 2))
    second = make_class(trainer, "BC-SUM-2", date(YEAR, 5, 2), slug="ky-nang-doi-ngoai")
    enrol(first, *people)
    enrol(second, *people[:3])
    for person, score in zip(people, ("9", "8", None, "6.5", "5"), strict=True):
        complete(first, person, score)
    complete(second, people[0], "7")
    attend(first, people[0], Status.present, Status.absent)
    attend(first, people[1], Status.late, Status.excused)

    report = periodic.build(admin, periodic.calendar_year(YEAR))
    for name in ("persons", "enrolments", "completed", "certified", "scored", "recorded"):
        assert getattr(report.total, name) == sum(getattr(r.tally, name) for r in report.rows)
    assert report.total.attended == sum(r.tally.attended for r in report.rows)
    assert report.total.score_sum == sum(r.tally.score_sum for r in report.rows)
    assert (report.total.persons, report.total.enrolments, report.total.completed) == (5, 8, 6)
    assert report.module_total.enrolments == sum(m.tally.enrolments for m in report.modules)
    assert report.module_total.persons == 5  # a person of two modules counts once
    assert sum(m.tally.persons for m in report.modules) == 8
    assert report.module_total.classes == 2

    login(admin)
    status, _h, data = get(client, f"/reports/units.xlsx?{YEAR_ARGS}")
    assert status == 200
    rows = sheet_rows(data)
    body, total = rows[1:-1], rows[-1]
    for column in (3, 4, 5, 7):  # persons, lượt, completed, certified
        assert total[column].value == sum(r[column].value for r in body)


def test_figures_follow_their_definitions(admin, create_user, unit, trainer):
    a = create_user(full_name="Phạm Minh Đức", unit=unit("CM-SNV"))
    b = create_user(full_name="Võ Thị Ánh", unit=unit("CM-SNV"))
    c = create_user(full_name="Đặng Văn Út", unit=unit("CM-SNV"))
    klass = make_class(trainer, "BC-DEF-1", date(YEAR, 9, 10))
    enrol(klass, a, b, c)
    attend(klass, a, Status.present, Status.excused)
    attend(klass, b, Status.late, Status.absent)
    complete(klass, a, "8.5")
    complete(klass, b, "7")
    complete(klass, c, None)
    certify(klass, a, CertStatus.superseded)
    certify(klass, a)  # the re-issue
    certify(klass, a, kind=Kind.confirmation)  # a confirmation is not a second certificate
    certify(klass, b, CertStatus.revoked)

    period = periodic.calendar_year(YEAR)
    row = by_name(periodic.build(admin, period, "CM-SNV"), "Sở Nội vụ").tally
    assert (row.persons, row.enrolments, row.completed, row.certified) == (3, 3, 3, 1)
    assert row.average_score == Decimal("7.75")  # (8.5 + 7) / 2: no score is left out
    # 16 periods recorded; present 4 + excused 4 (the module counts excused) + late 4.
    assert (row.attended, row.recorded) == (12, 16)
    assert row.attendance_rate == Decimal("0.75")
    assert row.completion_rate == 1

    klass.rule = {"count_excused": False}
    db.session.flush()
    row = by_name(periodic.build(admin, period, "CM-SNV"), "Sở Nội vụ").tally
    assert (row.attended, row.recorded) == (8, 16)
    assert periodic.percent_text(row.attendance_rate) == "50,0%"


def test_xlsx_typed_and_vietnamese(client, login, admin, two_units):
    login(admin)
    status, headers, data = get(client, f"/reports/units.xlsx?{YEAR_ARGS}")
    assert status == 200
    assert f"nam-{YEAR}" in headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(data))
    try:
        assert book.sheetnames == ["Theo đơn vị", "Theo chuyên đề"]
        first = book.worksheets[0]
        assert first["A1"].value == "BÁO CÁO KẾT QUẢ BỒI DƯỠNG THEO ĐƠN VỊ"
        assert first["A3"].value == f"Kỳ báo cáo: Năm {YEAR} (từ 01/01/{YEAR} đến 31/12/{YEAR})"
    finally:
        book.close()
    rows = sheet_rows(data)
    assert [c.value for c in rows[0]][:5] == [
        "STT",
        "Mã đơn vị",
        "Đơn vị",
        "Số người",
        "Số lượt người",
    ]
    thoi_binh = next(r for r in rows if r[1].value == "X-THOI-BINH")
    assert thoi_binh[2].value == "Xã Thới Bình"
    assert isinstance(thoi_binh[0].value, int)
    assert thoi_binh[3].value == 1
    assert isinstance(thoi_binh[3].value, int)
    assert thoi_binh[6].value == 1.0
    assert thoi_binh[6].number_format == "0.0%"
    assert thoi_binh[9].value == 7.0
    assert thoi_binh[9].number_format == "0.00"
    assert rows[-1][9].value == 7.75
    modules = sheet_rows(data, 1)
    assert modules[1][2].value.startswith("Đối ngoại nhân dân")
    assert modules[1][3].value == 1  # one class


def test_pdf_has_the_official_header(client, login, admin, two_units):
    login(admin)
    status, headers, data = get(client, f"/reports/units.pdf?period=report&year={YEAR}")
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(data))
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    text = pdf_text(data)
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH CÀ MAU",
        "SỞ NỘI VỤ",
        "BÁO CÁO",
        "Kết quả bồi dưỡng theo đơn vị",
        f"Năm báo cáo {YEAR} (từ 15/12/{YEAR - 1} đến 14/12/{YEAR})",
        "Xã Thới Bình",
        "Tổng cộng",
    ):
        assert line in text, line
    assert re.search(r"Cà Mau, ngày \d\d tháng \d\d? năm \d{4}", text)


def test_page_chart_and_links(client, login, admin, two_units):
    login(admin)
    status, headers, body = get(client, f"/reports/units?{YEAR_ARGS}")
    assert status == 200
    html = body.decode()
    assert "style=" not in html  # CSP: no inline styles
    assert re.search(r'<meter min="0" max="100"[^>]*value="100.0"', html)
    assert "/reports/reports.css" in html
    assert "/reports/people" in html
    assert f"/reports/units.xlsx?period=year&amp;year={YEAR}" in html
    assert row_cells(html, "X-THOI-BINH")[1:4] == ["1", "1", "1"]
    status, headers, body = get(client, "/reports/reports.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"@media print" in body


def test_bad_period_shows_errors_and_exports_refuse(client, login, admin):
    login(admin)
    status, _h, body = get(client, "/reports/units?period=range&start=31/02/2025&end=x")
    assert status == 200
    assert "Ngày bắt đầu phải có dạng dd/mm/yyyy." in body.decode()
    assert get(client, "/reports/units.xlsx?period=range&start=x&end=y")[0] == 400
    assert get(client, "/reports/units.pdf?period=year&year=1900")[0] == 400
    assert get(client, "/reports/units?unit=NO-SUCH-UNIT")[0] == 404


# -- cost ------------------------------------------------------------------------------------


@pytest.fixture
def count_statements(app):
    engine = app.extensions["learnhub.engine"]
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    yield seen
    event.remove(engine, "before_cursor_execute", before)


def _tree_with(n, create_user, trainer, code):
    parent = new_unit(code, f"Khối thử {n}", "CM", kind=UnitKind.department)
    klass = make_class(trainer, f"BC-{code}", date(YEAR, 7, 1), sessions=1)
    for i in range(n):
        child = new_unit(f"{code}-{i}", f"Phòng {i} của khối {n}", code)
        person = create_user(full_name=f"Học viên {n}-{i}", unit=child)
        enrol(klass, person)
        attend(klass, person, Status.present)
        complete(klass, person, "8")
    return parent


def test_statement_count_does_not_grow_with_units(
    client, login, admin, create_user, trainer, count_statements
):
    _tree_with(3, create_user, trainer, "T3")
    _tree_with(10, create_user, trainer, "T10")
    login(admin)
    get(client, "/reports/units")  # the first request after sign-in opens the test's savepoint
    counts = {}
    for code, n in (("T3", 3), ("T10", 10)):
        # The tests share one session across requests: start each from an empty identity map,
        # as a real request does.
        db.session.expire_all()
        count_statements.clear()
        status, _h, body = get(client, f"/reports/units?unit={code}&{YEAR_ARGS}")
        assert status == 200
        counts[code] = len(count_statements)
        assert row_cells(body.decode(), "total")[1:4] == [str(n)] * 3
    assert counts["T3"] == counts["T10"]
    assert counts["T3"] <= 20, counts


def test_pdf_timeout_falls_back_to_the_page(monkeypatch, client, login, admin):
    def slow(*_args, **_kwargs):
        raise pdf.RenderTimeout("too slow")

    monkeypatch.setattr(pdf, "render", slow)
    login(admin)
    status, headers, _body = get(client, f"/reports/units.pdf?{YEAR_ARGS}")
    assert status == 302
    assert headers["Location"].startswith("/reports/units?")
    html = get(client, headers["Location"])[2].decode()
    assert "Tạo tệp PDF quá lâu" in html


def test_each_class_weighs_attendance_by_its_own_rule(admin, create_user, unit, trainer):
    """The figures come summed per (unit, module, class rule): two classes of one module with
    different rules keep their own weights in the same row."""
    a = create_user(full_name="Lê Thị Quy", unit=unit("CM-SNV"))
    lenient = make_class(trainer, "BC-RULE-1", date(YEAR, 3, 10))
    strict = make_class(trainer, "BC-RULE-2", date(YEAR, 3, 20))
    strict.rule = {"count_excused": False, "late_weight": 0.5}
    db.session.flush()
    enrol(lenient, a)
    enrol(strict, a)
    attend(lenient, a, Status.excused, Status.late)  # 4 + 4 of 8
    attend(strict, a, Status.excused, Status.late)  # 0 + 2 of 8

    report = periodic.build(admin, periodic.calendar_year(YEAR), "CM-SNV")
    row = by_name(report, "Sở Nội vụ").tally
    assert (row.attended, row.recorded) == (10, 16)
    (module,) = report.modules
    assert (module.tally.attended, module.tally.recorded, module.tally.classes) == (10, 16, 2)


def test_a_module_counts_the_classes_of_the_rows_shown(admin, create_user, unit, trainer):
    """Below the province, a module's classes are those with someone in the rows: a class whose
    people are all elsewhere is not one of this unit's classes."""
    here = create_user(full_name="Ngô Văn Đây", unit=unit("CM-SNV"))
    there = create_user(full_name="Trần Thị Đó", unit=unit("X-THOI-BINH"))
    shared = make_class(trainer, "BC-SHOWN-1", date(YEAR, 6, 1))
    elsewhere = make_class(trainer, "BC-SHOWN-2", date(YEAR, 6, 2))
    enrol(shared, here, there)
    enrol(elsewhere, there)

    period = periodic.calendar_year(YEAR)
    (module,) = periodic.build(admin, period, "CM-SNV").modules
    assert (module.tally.classes, module.tally.enrolments) == (1, 1)
    province = periodic.build(admin, period)
    assert [m.tally.classes for m in province.modules] == [2]
    assert province.module_total.classes == 2


def test_the_report_reads_one_row_per_unit_module_and_rule_not_per_class(
    admin, create_user, unit, trainer, monkeypatch
):
    """Issue 18: at size M the period holds about 180,000 (class, unit) figures; the report reads
    them summed per (unit, module, class rule), so the rows it loops over do not grow with the
    classes."""
    people = [create_user(full_name=f"Học viên {i}", unit=unit("CM-SNV")) for i in range(2)]
    for i in range(5):
        klass = make_class(trainer, f"BC-GROUPED-{i}", date(YEAR, 7, 1 + i))
        enrol(klass, *people)
        attend(klass, people[0], Status.present, Status.late)
    read = {}
    counts = periodic._counts

    def recorded(*args):
        result = counts(*args)
        read["enrolments"] = result[0]
        return result

    monkeypatch.setattr(periodic, "_counts", recorded)
    report = periodic.build(admin, periodic.calendar_year(YEAR), "CM-SNV")
    assert len(read["enrolments"]) == 1
    row = by_name(report, "Sở Nội vụ").tally
    assert (row.enrolments, row.attended, row.recorded) == (10, 40, 40)
    (module,) = report.modules
    assert module.tally.classes == 5
