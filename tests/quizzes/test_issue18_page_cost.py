"""Issue 18: the attempt page keys its cached forms by what it reads as plain columns. Each item
keeps its question's revision in a column of its own (the page never reads the snapshot's JSON to
learn it), and the order and answer key the cache as the JSON text stored."""

import random

import sqlalchemy as sa

from learnhub.quizzes import services
from learnhub.quizzes.models import AttemptItem, Question
from tests.support import answer_for, csrf_token, statements


def test_an_item_keeps_the_revision_its_question_had_when_drawn(quiz, learner, now, db_session):
    questions = db_session.scalars(
        sa.select(Question).where(Question.module_id == quiz.module_id).order_by(Question.id)
    ).all()
    edited = questions[0]
    edited.data = {**edited.data, "revision": 3}
    db_session.flush()
    attempt = services.start_attempt(quiz, learner, now, random.Random(5))
    db_session.flush()
    rows = db_session.execute(
        sa.select(AttemptItem.question_id, AttemptItem.revision, AttemptItem.snapshot).where(
            AttemptItem.attempt_id == attempt.id
        )
    ).all()
    assert {question_id: revision for question_id, revision, _ in rows} == {
        q.id: (3 if q is edited else 1) for q in questions
    }
    for _question_id, revision, snapshot in rows:
        assert revision == snapshot.get("revision", 1)
    page = {item.question_id: item.revision for item in services.page_items(attempt.id)}
    assert page[edited.id] == 3


def test_the_attempt_page_reads_no_snapshot_and_decodes_no_json_when_its_forms_are_cached(
    client, login, learner, quiz, app, monkeypatch
):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    url = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token}).location
    attempt_id = int(url.rsplit("/", 1)[1])
    answer = answer_for(services.snapshots(attempt_id, [1])[1])
    saved = client.post(
        f"/attempts/{attempt_id}/items/1", json=answer, headers={"X-CSRFToken": token}
    )
    assert saved.get_json()["saved"] is True
    first = client.get(url)  # every form now cached
    decoded = []
    for name in ("order", "answer"):  # the decoded JSON, read only to render a form
        real = getattr(services.PageItem, name)
        monkeypatch.setattr(
            services.PageItem,
            name,
            property(lambda item, real=real, name=name: decoded.append(name) or real.fget(item)),
        )
    with statements(app.extensions["learnhub.engine"]) as seen:
        second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert not [s for s in seen if "snapshot" in s], seen
    assert decoded == []
    # The same page as before, the saved answer shown as chosen.
    assert (
        second.get_data(as_text=True).count("checked")
        == first.get_data(as_text=True).count("checked")
        > 0
    )


def test_an_answer_saved_again_differently_gets_its_own_cached_form(
    client, login, learner, quiz, app
):
    """The cache is keyed by the answer's JSON text: a different answer is a different key, so the
    page never shows a form cached for another answer."""
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    url = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token}).location
    attempt_id = int(url.rsplit("/", 1)[1])
    items = services.page_items(attempt_id)
    single = next(
        i
        for i in items
        if services.snapshots(attempt_id, [i.position])[i.position]["kind"] == "single"
    )
    pattern = 'name="choice" value="%d" checked'
    for choice in (0, 1, 0):
        saved = client.post(
            f"/attempts/{attempt_id}/items/{single.position}",
            json={"choice": choice},
            headers={"X-CSRFToken": token},
        )
        assert saved.get_json()["saved"] is True
        html = client.get(url).get_data(as_text=True)
        form = html.split(f'id="q{single.position}"', 1)[1].split("</form>", 1)[0]
        assert (pattern % choice) in form, form
        assert (pattern % (1 - choice)) not in form, form
