"""Issue 15, finding 1: every module has its quiz from the moment it exists (files or browser),
no page that only displays creates rows, and a module whose completion rule requires the quiz
is not published while the quiz has no questions."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select

from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog import services as catalog
from learnhub.cli import alembic_config
from learnhub.content.completion import CompletionRule
from learnhub.content.modules import ModuleSource
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import Quiz
from tests.support import csrf_token

META = {
    "title": "Chuyên đề soạn trên web",
    "category": "ky-nang",
    "summary": "Tóm tắt",
    "periods": 2,
}


def _quiz_count(db_session, module_id: int) -> int:
    return db_session.scalar(select(func.count()).where(Quiz.module_id == module_id))


def _create_in_browser(client, slug: str = "soan-tren-web"):
    token = csrf_token(client, "/manage/modules/new")
    return client.post(
        "/manage/modules/new",
        data={"csrf_token": token, "slug": slug, **META, "legal_refs": ""},
    )


def test_finding_1_browser_created_module_has_a_working_quiz_settings_link(
    client, login, trainer, db_session
):
    login(trainer)
    assert _create_in_browser(client).status_code == 302
    module = catalog.by_slug("soan-tren-web")
    # The quiz was committed with the module, not made (and lost) while a page was displayed.
    db_session.expire_all()
    quiz = quizzes.quiz_of(module)
    assert quiz is not None
    bank = client.get(f"/manage/modules/{module.id}/questions").get_data(as_text=True)
    assert f'href="/manage/quizzes/{quiz.id}/settings"' in bank
    settings = client.get(f"/manage/quizzes/{quiz.id}/settings")
    assert settings.status_code == 200
    assert "Kiểm tra cuối chuyên đề" in settings.get_data(as_text=True)  # module.toml's default


def test_finding_1_module_from_files_gets_its_quiz_in_the_same_call(db_session, tmp_path):
    source = ModuleSource(slug="tu-tep-moi", meta={**META, "quiz": {"title": "Bài kiểm tra tệp"}})
    module, changed = catalog.sync_module(SYSTEM, source, tmp_path)
    assert changed
    assert quizzes.quiz_of(module).title == "Bài kiểm tra tệp"


def test_finding_1_displaying_the_bank_creates_no_rows(client, login, trainer, db_session):
    module = catalog.create_module(Actor(trainer), "khong-co-quiz", META, trainer)
    db_session.delete(quizzes.quiz_of(module))  # as a module made before this fix
    db_session.flush()
    login(trainer)
    for path in (f"/manage/modules/{module.id}/questions", f"/manage/modules/{module.id}"):
        assert client.get(path).status_code == 200
    db_session.expire_all()
    assert _quiz_count(db_session, module.id) == 0


def test_finding_1_publishing_needs_questions_when_the_rule_requires_the_quiz(
    client, login, trainer, db_session
):
    login(trainer)
    _create_in_browser(client, "can-cau-hoi")
    module = catalog.by_slug("can-cau-hoi")
    actor = Actor(trainer)
    draft = catalog.current_draft(module)
    catalog.set_lesson(draft, "bai-1", "Bài 1", "Nội dung.\n", [])
    catalog.save_draft(actor, module, draft)
    token = csrf_token(client, f"/manage/modules/{module.id}")
    page = client.post(
        f"/manage/modules/{module.id}/publish",
        data={"csrf_token": token, "action": "publish"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "ngân hàng câu hỏi chưa có câu hỏi nào" in page
    db_session.refresh(module)
    assert module.published_version is None

    # Without the quiz in the rule, the same module is published.
    draft = catalog.set_completion_rule(catalog.current_draft(module), CompletionRule(quiz=False))
    catalog.save_draft(actor, module, draft)
    assert catalog.publish(actor, module).number == module.latest_version.number

    # With questions, the rule requiring the quiz is no obstacle.
    draft = catalog.set_completion_rule(catalog.current_draft(module), CompletionRule())
    catalog.save_draft(actor, module, draft)
    quizzes.import_gift(actor, module, "::Q1:: Hai cộng hai? {=4 ~5}\n")
    assert catalog.publish(actor, module).number == module.latest_version.number


def test_finding_1_migration_gives_existing_modules_their_quiz(tmp_path: Path):
    """Upgrading a database holding a module without a quiz (made in the browser before)
    gives it one, with the settings of its latest version's [quiz] table."""
    from learnhub import create_app

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = create_app({"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": url})
    engine = old.extensions["learnhub.engine"]
    with old.app_context():
        command.upgrade(alembic_config(), "d1f4c8a2e7b3")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO modules (id, slug, search_text, created_at) VALUES "
                "(1, 'web', '', '2026-01-01'), (2, 'co-quiz', '', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO module_versions (id, module_id, number, content_hash, source, "
                "meta, banks, assets, created_at) VALUES (1, 1, 1, 'h', 'browser', "
                """'{"title": "W", "quiz": {"title": "Kiểm tra web", "pass_mark": 7.5}}', """
                "'{}', '{}', '2026-01-01')"
            )
            conn.exec_driver_sql("UPDATE modules SET latest_version_id = 1 WHERE id = 1")
            conn.exec_driver_sql(
                "INSERT INTO quizzes (module_id, title, time_limit_minutes, attempts_allowed, "
                "grading, pass_mark, per_category, shuffle_questions, shuffle_choices, "
                "review_after_submit, review_after_close, grace_seconds) VALUES "
                "(2, 'Có sẵn', 0, 0, 'highest', 5, 0, 1, 1, 'score', 'full', 60)"
            )
        command.upgrade(alembic_config(), "head")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT module_id, title, pass_mark FROM quizzes ORDER BY module_id")
            ).all()
    engine.dispose()
    assert [(r[0], r[1], float(r[2])) for r in rows] == [
        (1, "Kiểm tra web", 7.5),
        (2, "Có sẵn", 5.0),
    ]
