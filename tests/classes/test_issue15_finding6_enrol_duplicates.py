"""Issue 15, finding 6: the same login twice (or hocvien1 and HOCVIEN1) in an enrolment list gave
a bare English 500, and the error page itself failed (IntegrityError, then PendingRollbackError).
The list is de-duplicated without regard to case after NFC and what was ignored is reported; the
500 page rolls the session back before it renders."""

import unicodedata

from sqlalchemy import select

from learnhub import create_app, db
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.classes import matching
from learnhub.classes import services as classes
from learnhub.quizzes.models import Quiz
from learnhub.timeutil import today
from tests.conftest import PASSWORD
from tests.support import csrf_token


def _class(trainer):
    return classes.open_class(
        Actor(trainer),
        by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(code="TRUNG-1", title="Lớp trùng", starts_on=today(), ends_on=today()),
        [trainer],
    )


def test_finding_6_repeated_logins_are_enrolled_once_and_reported(
    client, login, trainer, create_user, db_session
):
    one = create_user("hocvien1", full_name="Trần Văn Một")
    two = create_user("hocvien2", full_name="Lê Thị Hai")
    lop = _class(trainer)
    login(trainer)
    token = csrf_token(client, f"/manage/classes/{lop.id}")
    response = client.post(
        f"/manage/classes/{lop.id}/enrol",
        data={"csrf_token": token, "logins": "hocvien1\nHOCVIEN1\nhocvien2\nhocvien1\n"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Đã ghi danh 2 học viên" in html
    assert "Bỏ qua 2 dòng trùng" in html
    assert "Dòng 2: &#39;HOCVIEN1&#39; trùng với dòng 1, bỏ qua" in html
    assert "Dòng 4: &#39;hocvien1&#39; trùng với dòng 1, bỏ qua" in html
    assert sorted(u.id for u in classes.roster(lop)) == sorted([one.id, two.id])


def test_finding_6_names_equal_after_nfc_are_one_row(create_user, db_session):
    from datetime import date

    person = create_user("nhung2", full_name="Nguyễn Thị Hồng Nhung", birth_date=date(1990, 1, 2))
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    text = f"Nguyễn Thị Hồng Nhung; 02/01/1990\n{nfd.upper()}; 02/01/1990\nnhung2\n"
    found = matching.match_pasted(text)
    assert found.ok
    assert [u.id for u in found.users] == [person.id]
    assert [p.row for p in found.repeated] == [2, 3]


def test_finding_6_server_error_page_rolls_back_before_rendering(app, learner, db_session):
    """A request whose flush fails (IntegrityError) gets the app's Vietnamese 500 page, rendered
    for the signed-in user, not a second failure."""
    # The second app shares the test's connection (and so its rolled-back transaction).
    name, username = learner.full_name, learner.login
    db_session.commit()  # releases the test's savepoint: the learner stays in the transaction
    bind = db_session.get_bind()
    db.session.remove()
    broken = create_app({**app.config, "TESTING": False})
    db.session.configure(bind=bind, join_transaction_mode="create_savepoint")

    @broken.get("/boom")
    def boom():
        quiz = db.session.scalar(select(Quiz).limit(1))
        db.session.add(Quiz(module_id=quiz.module_id, title="Trùng"))
        db.session.flush()  # IntegrityError: one quiz per module

    try:
        client = broken.test_client()
        token = csrf_token(client, "/login")
        client.post("/login", data={"login": username, "password": PASSWORD, "csrf_token": token})
        response = client.get("/boom")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Lỗi hệ thống" in body
        assert "Mã tham chiếu" in body
        assert name in body  # the page was rendered for the signed-in user
    finally:
        broken.extensions["learnhub.engine"].dispose()
