"""Issue 18: the signed-in request reads its user's row with Core, not the ORM's SELECT, and
makes it the session's User (db.from_row): a User that behaves as one the ORM loaded."""

from datetime import date

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from learnhub import db
from learnhub.accounts import auth
from learnhub.accounts.models import Role, User
from tests.catalog.test_issue18_lesson_cache import _published


@pytest.fixture
def orm_selects():
    """The ORM statements run while the test runs (Session's do_orm_execute)."""
    seen: list[str] = []

    def record(state):
        seen.append(str(state.statement))

    event.listen(Session, "do_orm_execute", record)
    yield seen
    event.remove(Session, "do_orm_execute", record)


def test_a_warm_signed_in_page_runs_no_orm_select(
    client, login, admin, learner, db_session, orm_selects
):
    _published(admin, "nguoi-doc-mot-dong", "Nội dung.\n")
    db_session.flush()
    login(learner)
    url = "/modules/nguoi-doc-mot-dong/lessons/bai-1"
    assert client.get(url).status_code == 200
    orm_selects.clear()
    warm = client.get(url)
    assert warm.status_code == 200
    assert "Nguyễn Thị Hồng Nhung" in warm.text  # the signed-in user's own name
    assert orm_selects == []


def test_the_user_from_a_row_is_the_sessions_user_as_the_orm_loads_it(
    app, create_user, unit, db_session
):
    home = unit("CM-SNV")
    user = create_user(
        "nguoi-tu-dong",
        roles=(Role.trainer, Role.learner),
        full_name="Lê Văn Dòng",
        unit=home,
        birth_date=date(1990, 3, 4),
    )
    db_session.flush()
    ident, session_id, unit_name = user.id, user.get_id(), home.name
    db_session.expunge_all()
    with app.test_request_context("/"):
        loaded = auth.session_user(session_id)
        assert inspect(loaded).persistent
        assert loaded in db.session
        assert (loaded.id, loaded.full_name, loaded.birth_date) == (
            ident,
            "Lê Văn Dòng",
            date(1990, 3, 4),
        )
        assert loaded.unit.name == unit_name  # relationships load when first used
        assert loaded.roles == {Role.trainer, Role.learner}
        # The same row asked again, or by the ORM, is the same object.
        assert auth.session_user(session_id) is loaded
        assert db.session.get(User, ident) is loaded
        # Its changes are flushed like any loaded object's, the validators' keys with them.
        loaded.full_name = "Lê Văn Mới"
        db.session.flush()
        keys = db.session.execute(
            select(User.full_name, User.search_key).where(User.id == ident)
        ).one()
        assert keys.full_name == "Lê Văn Mới"
        assert "moi" in keys.search_key


def test_a_held_user_is_returned_as_it_stands(app, learner, db_session):
    """As the ORM's SELECT would: a User the session already holds is not overwritten."""
    session_id = learner.get_id()
    with app.test_request_context("/"):
        held = db.session.get(User, learner.id)
        held.position = "Chưa lưu"
        assert auth.session_user(session_id) is held
        assert held.position == "Chưa lưu"


def test_a_row_the_session_rule_refuses_gives_no_user(app, create_user, db_session):
    user = create_user("nguoi-bi-khoa")
    db_session.flush()
    old_session = user.get_id()
    user.session_version += 1
    db_session.flush()
    with app.test_request_context("/"):
        assert auth.session_user(old_session) is None
        assert auth.session_user(user.get_id()) is not None
    user.is_enabled = False
    db_session.flush()
    db_session.expunge_all()
    with app.test_request_context("/"):
        assert auth.session_user(user.get_id()) is None
        assert auth.session_user("abc:1") is None
