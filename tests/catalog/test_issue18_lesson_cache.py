"""Issue 18: lesson HTML is rendered once per content (a cache keyed by the text itself), and a
new version of a lesson shows its new text at once."""

from learnhub.catalog import services as catalog
from learnhub.catalog import views
from learnhub.quizzes import services as quizzes


def _publish(actor, module, body):
    draft = catalog.current_draft(module)
    catalog.set_lesson(draft, "bai-1", "Bài 1", body, [])
    catalog.save_draft(actor, module, draft)
    catalog.publish(actor, module)


def test_a_new_lesson_version_shows_its_new_text_and_the_same_text_renders_once(
    client, login, admin, learner, db_session
):
    actor = quizzes.Actor(admin)
    module = catalog.create_module(
        actor,
        "bo-nho-dem-bai-hoc",
        {"title": "Bộ nhớ đệm", "category": "ky-nang", "summary": "x", "periods": 1},
        admin,
    )
    quizzes.import_gift(actor, module, "::TF:: Câu hỏi đúng sai.{T}\n")
    _publish(actor, module, "Nội dung **bản một**.\n")
    db_session.flush()
    login(learner)
    url = "/modules/bo-nho-dem-bai-hoc/lessons/bai-1"
    before = views._lesson_html.cache_info()
    assert "<strong>bản một</strong>" in client.get(url).get_data(as_text=True)
    assert "<strong>bản một</strong>" in client.get(url).get_data(as_text=True)
    after = views._lesson_html.cache_info()
    assert after.misses == before.misses + 1  # rendered once
    assert after.hits >= before.hits + 1
    _publish(actor, module, "Nội dung **bản hai**.\n")
    db_session.flush()
    html = client.get(url).get_data(as_text=True)
    assert "<strong>bản hai</strong>" in html
    assert "bản một" not in html
