"""The annual report on bồi dưỡng (/reports/annual, .xlsx, .pdf): for a seeded reporting year,
the page's and the XLSX's figures equal totals this test counts itself from the seeded
enrolments; the year runs 15/12–14/12; HR scope; learners are refused."""

import re
from collections import Counter
from datetime import date

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.classes.models import ClassFormat
from learnhub.orgunits.models import UnitKind
from learnhub.reports import annual
from tests.reports.test_periodic import enrol, get, make_class, new_unit, pdf_text, sheet_rows

# A year far from the other tests' classes, so rows committed elsewhere cannot interfere.
YEAR = 2017


def _set_format(klass, value):
    klass.format = value
    db.session.flush()


def _seed(create_user, unit, trainer):
    """People of every đối tượng, classes of every format and three categories, inside and just
    outside the reporting year 15/12/2016–14/12/2017. Returns the enrolments that count, as
    (group, level, rank, position, format, category) tuples written out by hand."""
    hamlet = new_unit("ANNUAL-AP", "Văn phòng Đảng ủy xã (thử)", "X-THOI-BINH")
    people = {
        # key: (user, group, level) — the group and level stated here, not computed.
        "bi-thu": (
            create_user(full_name="Người Một", unit=unit("X-THOI-BINH"), position="Bí thư Đảng ủy"),
            "can-bo",
            "xa",
        ),
        "cv-tinh": (
            create_user(full_name="Người Hai", unit=unit("CM-SNV"), rank="Chuyên viên"),
            "cong-chuc-tinh",
            "tinh",
        ),
        "cv-chinh": (
            create_user(
                full_name="Người Ba",
                unit=unit("CM-STC"),
                rank="Chuyên viên chính",
                position="Trưởng phòng",
            ),
            "cong-chuc-tinh",
            "tinh",
        ),
        "cc-xa": (
            create_user(full_name="Người Bốn", unit=hamlet, rank="Chuyên viên"),
            "cong-chuc-xa",
            "xa",
        ),
        "vc": (
            create_user(full_name="Người Năm", unit=unit("CM-SNV"), rank="Giảng viên hạng III"),
            "vien-chuc",
            "tinh",
        ),
        "khac": (create_user(full_name="Người Sáu", unit=unit("CM-LHHN")), "khac", "tinh"),
    }
    first = make_class(trainer, "AN-2017-01", date(2016, 12, 15))  # first day of the year
    second = make_class(trainer, "AN-2017-02", date(2017, 6, 1), slug="ky-nang-doi-ngoai")
    _set_format(second, ClassFormat.truc_tuyen)
    third = make_class(trainer, "AN-2017-03", date(2017, 12, 14), slug="quan-ly-to-chuc-pcpnn")
    _set_format(third, ClassFormat.ket_hop)
    before = make_class(trainer, "AN-2017-00", date(2016, 12, 14))  # previous year
    after = make_class(trainer, "AN-2018-01", date(2017, 12, 15))  # next year
    plan = {
        first: ["bi-thu", "cv-tinh", "cc-xa", "khac"],
        second: ["cv-tinh", "cv-chinh", "vc"],
        third: ["bi-thu", "cc-xa", "vc", "khac"],
        before: ["cv-tinh", "vc"],
        after: ["cv-chinh", "khac"],
    }
    categories = {
        first: "doi-ngoai-nhan-dan",
        second: "ky-nang",
        third: "phi-chinh-phu",
    }
    counted = []
    for klass, keys in plan.items():
        enrol(klass, *(people[k][0] for k in keys))
        if klass not in categories:
            continue
        for key in keys:
            user, group, level = people[key]
            counted.append(
                (group, level, user.rank, user.position, klass.format, categories[klass])
            )
    # A withdrawn learner does not count.
    extra = create_user(full_name="Người Rút", unit=unit("CM-SNV"), rank="Chuyên viên")
    enrol(second, extra)
    from learnhub.classes.models import Enrolment
    from learnhub.timeutil import utcnow

    enrolment = db.session.query(Enrolment).filter_by(class_id=second.id, user_id=extra.id).one()
    enrolment.withdrawn_at = utcnow()
    db.session.flush()
    return counted


def _expected(counted, index):
    """{row label key: {column key: count}} counted directly over the seeded enrolments."""
    table: dict[str, Counter] = {}
    for entry in counted:
        *_rest, fmt, category = entry
        row = entry[index]
        counts = table.setdefault(row, Counter())
        counts["total"] += 1
        counts[f"format:{fmt}"] += 1
        counts[f"category:{category}"] += 1
    return table


def test_annual_report_reproduces_totals_counted_from_enrolments(
    client, login, admin, create_user, unit, trainer
):
    counted = _seed(create_user, unit, trainer)
    assert len(counted) == 11
    report = annual.build(admin, YEAR)
    assert (report.period.start, report.period.end) == (date(2016, 12, 15), date(2017, 12, 14))

    groups = {line.key: line for line in report.by_group.lines}
    for group, counts in _expected(counted, 0).items():
        for key, value in counts.items():
            assert groups[group].get(key) == value, (group, key)
    levels = {line.key: line for line in report.by_level.lines}
    for level, counts in _expected(counted, 1).items():
        assert levels[level].counts == dict(counts), level
    ranks = {line.key: line for line in report.by_rank.lines}
    assert ranks["Chuyên viên"].get("total") == sum(1 for c in counted if c[2] == "Chuyên viên")
    assert ranks["Giảng viên hạng III"].get("total") == 2
    positions = {line.key: line for line in report.by_position.lines}
    assert positions["Bí thư Đảng ủy"].get("total") == 2
    for table in report.tables:
        assert table.total.get("total") == len(counted)
        assert table.total.get("format:tap-trung") == 4
        assert table.total.get("format:truc-tuyen") == 3
        assert table.total.get("format:ket-hop") == 4
        assert table.total.get("category:phi-chinh-phu") == 4

    # The page shows the same numbers.
    login(admin)
    status, _headers, body = get(client, f"/reports/annual?year={YEAR}")
    assert status == 200
    html = body.decode()
    first_table = html.split('data-table="1"', 1)[1].split("</table>", 1)[0]
    for group, counts in _expected(counted, 0).items():
        row = re.search(rf'data-row="{group}">(.*?)</tr>', first_table, re.S).group(1)
        cells = dict(re.findall(r'data-col="([^"]+)">([^<]*)</td>', row))
        assert cells["total"] == str(counts["total"]), group
        assert cells["format:ket-hop"] == str(counts["format:ket-hop"]), group

    # The XLSX too: typed numbers, the total row last.
    status, headers, data = get(client, f"/reports/annual.xlsx?year={YEAR}")
    assert status == 200
    assert "spreadsheetml" in headers["Content-Type"]
    rows = sheet_rows(data, 0)
    header = [c.value for c in rows[0]]
    assert header[:3] == ["STT", "Đối tượng", "Tổng số"]
    by_label = {r[1].value: [c.value for c in r] for r in rows[1:]}
    expected = _expected(counted, 0)
    assert by_label["Cán bộ"][2] == expected["can-bo"]["total"]
    assert by_label["Công chức cấp xã"][2] == expected["cong-chuc-xa"]["total"]
    assert by_label["Tổng cộng"][2] == len(counted)
    assert by_label["Tổng cộng"][header.index("Trực tuyến")] == 3


def test_annual_pdf_has_the_official_blocks(client, login, admin, create_user, unit, trainer):
    _seed(create_user, unit, trainer)
    login(admin)
    status, headers, data = get(client, f"/reports/annual.pdf?year={YEAR}")
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    text = pdf_text(data)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Kính gửi: Bộ Nội vụ." in text
    assert "Nơi nhận:" in text
    assert "Đơn vị tính: lượt người" in text
    assert "I. Theo đối tượng" in text
    assert "IV. Theo cấp" in text


def test_hr_counts_only_people_in_scope(client, login, create_user, unit, trainer):
    counted = _seed(create_user, unit, trainer)
    hr = create_user(roles=(Role.hr,), unit=unit("CM-SNV"), scope=unit("CM-SNV"))
    report = annual.build(hr, YEAR)
    # People of Sở Nội vụ: cv-tinh twice, vc twice.
    assert report.by_group.total.get("total") == 4
    assert report.by_group.total.get("total") < len(counted)


def test_learner_is_refused(client, login, learner):
    login(learner)
    for url in ("/reports/annual", "/reports/annual.xlsx", "/reports/annual.pdf"):
        assert client.get(url).status_code == 403


def test_level_comes_from_the_unit_kind(unit):
    units = {u.id: u for u in db.session.query(type(unit("CM")))}
    assert annual.level_of(unit("X-THOI-BINH").id, units) == "xa"
    assert annual.level_of(unit("CM-SNV").id, units) == "tinh"
    assert annual.level_of(unit("H-THOI-BINH").id, units) == "huyen"
    assert annual.level_of(None, units) == "chua-xac-dinh"
    assert unit("H-THOI-BINH").kind == UnitKind.district


def test_page_says_its_layout_is_provisional_until_the_official_form_is_read(client, login, admin):
    # docs/annual-report.md: the annex of Thông tư 18/2025/TT-BNV was not read, so the page must
    # not pass for the official form.
    login(admin)
    page = client.get(f"/reports/annual?year={YEAR}").get_data(as_text=True)
    assert "data-provisional" in page
    assert "Bố cục tạm thời" in page
    assert "18/2025/TT-BNV" in page
