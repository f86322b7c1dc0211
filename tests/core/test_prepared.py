"""db.Prepared: a hot path's statement run on the DBAPI cursor reads and writes what
Connection.execute() would, on both backends: the same rows by position and by name, its
types' conversions both ways (dates, JSON, booleans, an enum literal), the statement told to
the listeners, a database error raised as SQLAlchemy's, the transaction begun."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, select

from learnhub import db
from learnhub.accounts import auth
from learnhub.accounts.models import User
from learnhub.catalog import services as catalog
from learnhub.quizzes import services
from learnhub.quizzes.models import AttemptItem
from learnhub.timeutil import utcnow
from tests.support import statements


def _as_execute_reads(prepared: db.Prepared, params: dict) -> tuple[list, list]:
    """(what execute() returns, what Prepared returns) for the same statement and params."""
    connection = db.session.connection()
    expected = connection.execute(prepared.statement, params).all()
    return expected, prepared.rows(connection, params)


def test_a_row_reads_as_execute_reads_it(learner):
    statement = db.columns_select(User).where(User.id == bindparam("id"))
    expected, got = _as_execute_reads(db.Prepared(statement), {"id": learner.id})
    assert len(got) == 1
    assert tuple(got[0]) == tuple(expected[0])
    assert got[0]._fields == tuple(expected[0]._fields)
    assert isinstance(got[0].created_at, datetime)  # SQLite stores text: converted back
    assert got[0].is_enabled is True


def test_the_hot_paths_read_as_execute_reads(learner):
    user_key = {"id": learner.id}
    for prepared, params in [
        (auth._USER_BY_ID, user_key),
        (auth._USER_ROW, user_key),
        (auth._USER_ROW, {"id": learner.id + 10_000}),  # no such user: no row
        (catalog._PUBLISHED_LESSON, {"slug": "doi-ngoai-nhan-dan", "lesson": "x", "user": 1}),
    ]:
        expected, got = _as_execute_reads(prepared, params)
        assert [tuple(row) for row in got] == [tuple(row) for row in expected]
        assert [row._asdict() for row in got] == [dict(row._mapping) for row in expected]
    one = catalog.published_lesson("doi-ngoai-nhan-dan", "x", learner)
    assert one.read is False
    assert len(one.content_hash) == 64


def test_the_answer_update_binds_and_returns_as_execute(learner):
    quiz = services.ensure_quiz(catalog.by_slug("doi-ngoai-nhan-dan"))
    attempt = services.start_attempt(quiz, learner, utcnow())
    db.session.flush()
    item = attempt.items[0]
    now = utcnow().replace(microsecond=123456)
    statement = services._store_statement(db.session.get_bind().dialect.name)
    params = {
        "attempt": attempt.id,
        "user": learner.id,
        "at_position": item.position,
        "now": now,
        "new_answer": {"value": True, "text": "Đối ngoại nhân dân"},
    }
    # The guard's literal (the attempt's state, in progress) is bound from the statement.
    row = statement.one_or_none(db.session.connection(), params)
    assert row is not None
    assert row.id == item.id
    assert row.snapshot == item.snapshot
    assert isinstance(row.snapshot, dict)
    assert row.order == item.order
    db.session.expire_all()
    stored = db.session.get(AttemptItem, item.id)
    assert stored.answer == {"value": True, "text": "Đối ngoại nhân dân"}  # JSON encoded
    assert stored.answered_at == now  # the date bound as the column stores it
    # Another user's attempt: the guard matches nothing.
    assert statement.one_or_none(db.session.connection(), {**params, "user": 0}) is None


def test_the_listeners_see_each_statement(app, learner):
    with statements(app.extensions["learnhub.engine"]) as seen:
        auth._USER_ROW.rows(db.session.connection(), {"id": learner.id})
    assert len(seen) == 1
    assert seen[0].startswith("SELECT users.id, users.is_enabled")


def test_a_database_error_is_sqlalchemys():
    missing = db.Prepared(select(sa.table("no_such_table", sa.column("x"))))
    with pytest.raises(sa.exc.DBAPIError) as raised:
        missing.rows(db.session.connection(), {})
    assert "no_such_table" in str(raised.value)


def test_expanding_parameters_are_refused():
    expanding = db.Prepared(select(User.id).where(User.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expand"):
        expanding.rows(db.session.connection(), {"ids": [1, 2]})


def test_it_begins_the_transaction_as_execute_would(app):
    with app.extensions["learnhub.engine"].connect() as connection:
        assert not connection.in_transaction()
        assert db.Prepared(select(sa.literal(7).label("seven"))).rows(connection, {}) == [(7,)]
        assert connection.in_transaction()
