"""Issue 17, build 4: a learner's evaluation of a class (phiếu đánh giá khóa học).

One per learner per class, only for learners on the roster and only once the last session has
started; anonymous to those who run the class (means and comments without names, and nothing
but the count below three answers); in the class dossier too."""

import io
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.audit.services import Actor
from learnhub.classes import feedback
from learnhub.classes import services as classes
from learnhub.classes.models import ClassFeedback
from learnhub.timeutil import today, utcnow
from tests.reports.test_periodic import enrol, make_class
from tests.support import csrf_token

NAMES = ("Học Viên Một", "Học Viên Hai", "Học Viên Ba", "Học Viên Bốn")


@pytest.fixture
def finished(create_user, unit, trainer):
    """A class whose sessions are over, with four learners."""
    klass = make_class(trainer, "DG-2026-01", today() - timedelta(days=2))
    people = [create_user(full_name=n, unit=unit("CM-SNV")) for n in NAMES]
    enrol(klass, *people)
    return klass, people


def _post(client, klass, **marks):
    url = f"/classes/{klass.id}/feedback"
    data = {"csrf_token": csrf_token(client, url), **marks}
    return client.post(url, data=data)


def _count(klass) -> int:
    return db.session.scalar(
        select(func.count(ClassFeedback.id)).where(ClassFeedback.class_id == klass.id)
    )


def test_learner_answers_once(app, login, finished):
    klass, people = finished
    client = login(people[0], c=app.test_client())
    response = _post(client, klass, content="5", trainers="4", organisation="3", comment="Hay")
    assert response.status_code == 302
    assert _count(klass) == 1
    # A second answer is refused, and nothing changes.
    response = _post(client, klass, content="1", trainers="1", organisation="1")
    assert response.status_code == 302
    assert _count(klass) == 1
    row = db.session.scalars(select(ClassFeedback).where(ClassFeedback.class_id == klass.id)).one()
    assert (row.content, row.trainers, row.organisation, row.comment) == (5, 4, 3, "Hay")
    assert "Bạn đã gửi phiếu đánh giá" in client.get(f"/classes/{klass.id}/feedback").text


def test_the_database_refuses_a_second_answer(finished):
    klass, people = finished
    feedback.submit(people[0], klass, feedback.FeedbackData(4, 4, 4))
    with pytest.raises(feedback.AlreadyGiven):
        feedback.submit(people[0], klass, feedback.FeedbackData(3, 3, 3))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            ClassFeedback(
                class_id=klass.id, user_id=people[0].id, content=1, trainers=1, organisation=1
            )
        )
    assert _count(klass) == 1


def test_marks_outside_1_to_5_are_refused_with_a_message(app, login, finished):
    klass, people = finished
    client = login(people[0], c=app.test_client())
    response = _post(client, klass, content="9", trainers="4", organisation="")
    assert response.status_code == 200
    assert "Not a valid choice" not in response.text
    assert 'role="alert"' in response.text
    assert _count(klass) == 0


def test_not_before_the_last_session_has_started(app, login, create_user, unit, trainer):
    klass = make_class(trainer, "DG-2026-02", today() + timedelta(days=3), sessions=2)
    person = create_user(full_name="Học Viên Sớm", unit=unit("CM-SNV"))
    enrol(klass, person)
    assert not feedback.is_open(klass, utcnow())
    client = login(person, c=app.test_client())
    assert "buổi học cuối cùng bắt đầu" in client.get(f"/classes/{klass.id}/feedback").text
    response = _post(client, klass, content="5", trainers="5", organisation="5")
    assert response.status_code == 302
    assert _count(klass) == 0
    # Open once the last session has started.
    last = klass.sessions[-1]
    assert feedback.is_open(klass, last.starts)
    assert not feedback.is_open(klass, last.starts - timedelta(minutes=1))


def test_withdrawn_and_strangers_cannot_answer(app, login, create_user, unit, finished):
    klass, people = finished
    enrolment = classes.withdraw(Actor(None), klass, people[3], utcnow())
    assert enrolment.withdrawn_at is not None
    client = login(people[3], c=app.test_client())
    _post(client, klass, content="5", trainers="5", organisation="5")
    stranger = create_user(full_name="Người Ngoài", unit=unit("CM-SNV"))
    other = login(stranger, c=app.test_client())
    assert other.get(f"/classes/{klass.id}/feedback").status_code == 404
    assert _post(other, klass, content="5", trainers="5", organisation="5").status_code == 404
    assert _count(klass) == 0


def test_summary_is_anonymous_and_hidden_below_three(app, login, trainer, finished):
    klass, people = finished
    feedback.submit(people[0], klass, feedback.FeedbackData(5, 4, 3, "Nội dung thiết thực"))
    feedback.submit(people[1], klass, feedback.FeedbackData(4, 4, 4, "Cần thêm tình huống"))
    client = login(trainer, c=app.test_client())
    url = f"/manage/classes/{klass.id}/feedback"
    page = client.get(url).text
    assert 'data-responses="2"' in page
    assert "Nội dung thiết thực" not in page  # two answers: only the count
    assert 'data-criterion="content"' not in page

    feedback.submit(people[2], klass, feedback.FeedbackData(3, 5, 5, ""))
    page = client.get(url).text
    assert 'data-responses="3"' in page
    means = feedback.summary(klass).means
    # content (5 + 4 + 3) / 3, trainers (4 + 4 + 5) / 3, organisation (3 + 4 + 5) / 3
    assert [str(means[c]) for c in feedback.CRITERIA] == ["4.00", "4.33", "4.00"]
    assert "4,33" in page
    assert "Nội dung thiết thực" in page
    assert "Cần thêm tình huống" in page
    for name in NAMES:
        assert name not in page


def test_summary_in_the_dossier(app, login, trainer, finished):
    klass, people = finished
    for person, marks in zip(people, ((5, 5, 4), (4, 3, 4), (3, 4, 4)), strict=False):
        feedback.submit(person, klass, feedback.FeedbackData(*marks, f"Ý kiến {marks[0]}"))
    client = login(trainer, c=app.test_client())
    response = client.get(f"/reports/classes/{klass.id}/dossier.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        name = next(n for n in archive.namelist() if n.endswith("06-tong-hop-phieu-danh-gia.xlsx"))
        book = load_workbook(io.BytesIO(archive.read(name)))
    values = [c for row in book.active.iter_rows(values_only=True) for c in row if c is not None]
    assert "Số phiếu đã nhận: 3 / 4 học viên" in values
    assert pytest.approx(4.0) in values  # content: 12 / 3
    assert "Ý kiến 5" in values
    assert not any(isinstance(v, str) and v in NAMES for v in values)


def test_learner_cannot_see_the_summary(app, login, finished):
    klass, people = finished
    client = login(people[0], c=app.test_client())
    assert client.get(f"/manage/classes/{klass.id}/feedback").status_code == 404
    assert Role.learner in people[0].roles
