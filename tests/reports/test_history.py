"""A person's training history (/reports/people/<id>, .pdf) and the HR search (/reports/people):
who may see it (the person, HR whose scope covers them, admins; 404 for anyone else), what a
line says, the PDF read back, accent-insensitive bounded search within scope."""

import re
from datetime import date, timedelta

from learnhub.attendance.models import Status
from learnhub.certificates.models import Status as CertStatus
from learnhub.reports import history
from learnhub.timeutil import format_date, today
from tests.reports.test_periodic import (
    attend,
    certify,
    complete,
    enrol,
    get,
    make_class,
    pdf_text,
)


def _history_of(learner, trainer):
    """Two classes: one completed with a certificate (re-issued once), one not completed."""
    done = make_class(trainer, "LS-2024-01", date(2024, 3, 8), starts=date(2024, 3, 4))
    enrol(done, learner)
    attend(done, learner, Status.present, Status.excused)
    complete(done, learner, "8.5")
    old = certify(done, learner, CertStatus.superseded)
    new = certify(done, learner)
    missed = make_class(
        trainer, "LS-2024-02", date(2024, 9, 12), starts=date(2024, 9, 10), slug="ky-nang-doi-ngoai"
    )
    enrol(missed, learner)
    attend(missed, learner, Status.absent, Status.late)
    return done, missed, old, new


def test_the_person_sees_their_history(client, login, learner, trainer):
    _done, _missed, old, new = _history_of(learner, trainer)
    login(learner)
    status, _h, body = get(client, f"/reports/people/{learner.id}")
    assert status == 200
    html = body.decode()
    assert "style=" not in html
    assert "Nguyễn Thị Hồng Nhung" in html
    assert "Sở Nội vụ" in html
    assert html.index("LS-2024-01") < html.index("LS-2024-02")  # oldest first
    assert "Đối ngoại nhân dân" in html
    assert "04/03/2024 – 08/03/2024" in html
    line = re.search(r'<tr data-class="LS-2024-01">(.*?)</tr>', html, re.S).group(1)
    assert "8/8" in line  # excused counts (the module's rule)
    assert "8,50 (Giỏi)" in line
    assert format_date(today()) in line  # completed today (local date)
    assert f"{new.number_label} (Có hiệu lực)" in line
    assert f"{old.number_label} (Đã được cấp lại)" in line
    line = re.search(r'<tr data-class="LS-2024-02">(.*?)</tr>', html, re.S).group(1)
    assert "4/8" in line
    assert "Chưa hoàn thành" in line
    assert "/reports/reports.css" in html
    assert f"/reports/people/{learner.id}.pdf" in html


def test_lines_in_progress_and_summary(learner, trainer):
    klass = make_class(trainer, "LS-NOW", today() + timedelta(days=1), starts=today())
    enrol(klass, learner)
    (line,) = history.lines(learner)
    assert line.status == history.IN_PROGRESS
    assert line.held == 4  # today's session is held, tomorrow's not yet
    assert line.result == "Đang học"
    assert history.summary([line]) == {
        "classes": 1,
        "completed": 0,
        "certificates": 0,
    }


def test_who_may_see_a_history(app, client, login, learner, trainer, hr, admin, create_user, unit):
    outsider = create_user("xa", full_name="Trần Văn Thới", unit=unit("X-THOI-BINH"))
    other_learner = create_user("hv2", full_name="Lê Thị Hoa", unit=unit("CM-SNV"))
    _history_of(outsider, trainer)

    def status(user, person, suffix=""):
        c = app.test_client()
        if user is not None:
            login(user, c=c)
        return get(c, f"/reports/people/{person.id}{suffix}")[0]

    for suffix in ("", ".pdf"):
        assert status(None, learner, suffix) == 302
        assert status(learner, learner, suffix) == 200
        assert status(other_learner, learner, suffix) == 404
        assert status(trainer, learner, suffix) == 404
        assert status(hr, learner, suffix) == 200  # CM-SNV is in their scope
        assert status(hr, outsider, suffix) == 404  # Xã Thới Bình is not
        assert status(admin, outsider, suffix) == 200
    c = login(admin, c=app.test_client())
    assert get(c, "/reports/people/999999")[0] == 404
    assert history.can_view(hr, learner)
    assert not history.can_view(hr, outsider)


def test_history_pdf(client, login, hr, learner, trainer):
    _done, _missed, _old, new = _history_of(learner, trainer)
    login(hr)
    status, headers, data = get(client, f"/reports/people/{learner.id}.pdf")
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    # Named by the person, as HR files it, not by a row's id.
    named = f'filename="qua-trinh-boi-duong-nguyen-thi-hong-nhung-{learner.login}.pdf"'
    assert named in headers["Content-Disposition"]
    text = pdf_text(data)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH CÀ MAU",
        "SỞ NỘI VỤ",
        "QUÁ TRÌNH BỒI DƯỠNG",
        "Nguyễn Thị Hồng Nhung",
        "LS-2024-01",
        new.number_label,
        "Chưa hoàn thành",
    ):
        assert expected in text, expected


def test_search_within_scope(app, client, login, hr, learner, create_user, unit):
    outsider = create_user("xa", full_name="Nguyễn Thị Hồng Nhung", unit=unit("X-THOI-BINH"))
    login(hr)
    for q in ("Nhung", "nhung", "HONG NHUNG", "hồng"):
        status, _h, body = get(client, f"/reports/people?q={q}")
        assert status == 200
        html = body.decode()
        assert f"/reports/people/{learner.id}" in html, q
        assert f"/reports/people/{outsider.id}" not in html, q
    html = get(client, "/reports/people?q=khongcoai")[2].decode()
    assert "Không tìm thấy ai trong phạm vi của bạn." in html
    assert get(client, "/reports/people?q=%25_")[0] == 200

    c = login(learner, c=app.test_client())
    assert get(c, "/reports/people?q=nhung")[0] == 403


def test_search_is_bounded(monkeypatch, client, login, admin, create_user, unit):
    for i in range(5):
        create_user(f"ut{i}", full_name=f"Đặng Văn Út {i}", unit=unit("CM-SNV"))
    monkeypatch.setattr(history, "SEARCH_LIMIT", 3)
    login(admin)
    html = get(client, "/reports/people?q=dang+ut")[2].decode()
    assert len(re.findall(r'href="/reports/people/\d+"', html)) == 3
    assert "3 người đầu tiên khớp" in html
    found, more = history.search(admin, "dang ut", 10)
    assert [f.full_name for f in found] == [f"Đặng Văn Út {i}" for i in range(5)]
    assert not more


def test_search_lists_people_as_vietnamese_sorts_names(create_user, admin, unit):
    """By given name, then middle and family name (User.sort_key): Trần Văn An before Nguyễn
    Thị Bình, though "N" comes before "T"."""
    create_user("sapxep-binh", full_name="Nguyễn Thị Bình", unit=unit("CM-SNV"))
    create_user("sapxep-an", full_name="Trần Văn An", unit=unit("CM-SNV"))
    found, _more = history.search(admin, "sapxep", 10)
    assert [f.full_name for f in found] == ["Trần Văn An", "Nguyễn Thị Bình"]
    # Cut at the limit in that order too: the first page holds the first names, not the first
    # by the bytes of the family name.
    found, more = history.search(admin, "sapxep", 1)
    assert [f.full_name for f in found] == ["Trần Văn An"]
    assert more
