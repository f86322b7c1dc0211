"""Database: declarative base, the scoped session, and engine set-up per backend."""

import enum
import sqlite3
import time
import weakref
from collections import namedtuple
from functools import cache
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask, abort, request
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        # Store enums by value, as portable VARCHARs (no native ENUM types to migrate).
        enum.Enum: sa.Enum(
            enum.Enum, native_enum=False, values_callable=lambda e: [m.value for m in e]
        ),
    }


def enum_check(column: str, values: type[enum.StrEnum]) -> sa.CheckConstraint:
    """A CHECK that *column* holds one of the enum's values (the enum is the one list of them).
    Named after the column, so the naming convention makes it ck_<table>_<column> on every
    backend. NULL passes: whether a column may be empty is the column's own rule."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


session = scoped_session(sessionmaker())

M = TypeVar("M", bound=Base)


def get_or_404(model: type[M], ident: int) -> M:
    """Load a row by primary key or answer 404. The SELECT is built once per model: session.get
    builds its statement and options again on every call, about half again the cost of running
    one built before (a row a page has already loaded is still the session's same object)."""
    found = session.execute(_by_primary_key(model), {"ident": ident}).scalar_one_or_none()
    return found or abort(404)


def columns_select(model: type[Base]) -> sa.Select:
    """A Core SELECT of every mapped column of *model*, in the order from_row() takes them."""
    return sa.select(*(attr.columns[0] for attr in _column_attrs(model)))


def from_row(model: type[M], row: sa.Row) -> M:
    """*row* (of columns_select(model)) as the session's persistent *model* object, as the ORM
    would have loaded it: its columns loaded, its relationships loaded when first used, its
    changes flushed. About a third of the CPU of the ORM's own SELECT (its statement set-up
    and row loading), for the row every signed-in request reads (accounts.auth.session_user).
    The ORM's "load" event does not run (no model handles it). A row the session already holds
    is its object as it stands, as the ORM's SELECT would return it."""
    mapper = sa.inspect(model)
    key = mapper.identity_key_from_primary_key([row[i] for i in _primary_key_positions(model)])
    held = session.identity_map.get(key)
    if held is not None:
        return held
    obj = mapper.class_manager.new_instance()
    state = sa.inspect(obj)
    state.dict.update(zip(_column_keys(model), row, strict=True))
    state.key = key
    session.add(obj)
    return obj


@cache
def _column_attrs(model: type[Base]) -> tuple:
    return tuple(sa.inspect(model).column_attrs)


@cache
def _column_keys(model: type[Base]) -> tuple[str, ...]:
    return tuple(attr.key for attr in _column_attrs(model))


@cache
def _primary_key_positions(model: type[Base]) -> tuple[int, ...]:
    columns = [attr.columns[0] for attr in _column_attrs(model)]
    return tuple(
        next(i for i, column in enumerate(columns) if column is key)
        for key in sa.inspect(model).primary_key
    )


@cache
def _by_primary_key(model: type[Base]) -> sa.Select:
    (key,) = sa.inspect(model).primary_key
    return sa.select(model).where(key == sa.bindparam("ident"))


class Prepared:
    """A Core statement compiled once per backend and run on the DBAPI cursor of a Connection,
    for the few statements of the hot paths (the signed-in user's row, the answer save's
    UPDATE, the lesson page's key). Connection.execute builds an execution context, a cursor
    wrapper and a Result for every statement: about 11 of the 18 µs a one-row SELECT by
    primary key costs on SQLite. What it does that matters is kept: the statement's bind and
    result types (a datetime on SQLite, a JSON column), the parameters' defaults (a literal in
    the statement), the Connection's transaction (begun as execute() would begin it), the
    before_cursor_execute listeners (the tests count statements with them), and a DBAPI error
    raised as SQLAlchemy's (tests/core/test_prepared.py runs each against execute()). Not for a
    statement with expanding IN or literal_execute parameters (refused when compiled)."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        #: dialect -> (compiled, the row's named tuple or None, result processors or None)
        self._forms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def one_or_none(self, connection: sa.Connection, params: dict):
        """The statement's one row (a named tuple, as a Row reads by name and position), or
        None; MultipleResultsFound for more."""
        rows = self.rows(connection, params)
        if len(rows) > 1:
            raise sa.exc.MultipleResultsFound("more than one row where one or none was expected")
        return rows[0] if rows else None

    def rows(self, connection: sa.Connection, params: dict) -> list:
        """The statement run with *params* on *connection*: its rows, as named tuples."""
        compiled, row, results = self._form(connection.dialect)
        values = compiled.construct_params(params, escape_names=False)
        binds = compiled._bind_processors
        args: tuple | dict
        if compiled.positional:
            args = tuple(
                binds[key](values[key]) if key in binds else values[key]
                for key in compiled.positiontup
            )
        else:
            escaped = compiled.escaped_bind_names or {}
            args = {
                escaped.get(key, key): binds[key](value) if key in binds else value
                for key, value in values.items()
            }
        if not connection.in_transaction():
            connection.begin()  # as execute() autobegins (SQLite: _sqlite_begin decides)
        got = run_on_cursor(connection, compiled.string, args)
        if results is not None:
            got = [
                tuple(value if p is None else p(value) for p, value in zip(results, r, strict=True))
                for r in got
            ]
        return [row._make(r) for r in got] if row is not None else got

    def _form(self, dialect: sa.Dialect) -> tuple:
        form = self._forms.get(dialect)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise ValueError("Prepared does not expand parameters: use execute()")
            columns = compiled._result_columns
            row = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None
            results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
            form = (compiled, row, results if any(results) else None)
            self._forms[dialect] = form
        return form


def run_on_cursor(connection: sa.Connection, sql: str, args: tuple | dict = ()) -> list:
    """*sql* with *args* (the backend's parameter style) on *connection*'s DBAPI cursor, as
    Connection.exec_driver_sql runs it (its before_cursor_execute listeners told, a DBAPI error
    raised as SQLAlchemy's, the connection invalidated on a disconnect) without its execution
    context: the rows fetched (none for a statement that returns none). The Connection's
    transaction is the caller's: this neither begins nor ends one."""
    cursor = connection.connection.cursor()
    try:
        if connection._has_events or connection.engine._has_events:
            for listener in connection.dispatch.before_cursor_execute:
                sql, args = listener(connection, cursor, sql, args, None, False)
        cursor.execute(sql, args)
        rows = cursor.fetchall() if cursor.description else []
        cursor.close()
    except BaseException as exc:  # SQLAlchemy's handling: wraps, invalidates, closes, raises
        connection._handle_dbapi_exception(exc, sql, args, cursor, None)
    return rows


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # SQLAlchemy, not the sqlite3 module, decides where transactions begin (see _sqlite_begin):
    # this makes SAVEPOINT work and lets a write transaction start with BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    # WAL lets readers run beside the writer; NORMAL is durable across app crashes in WAL mode.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.close()


#: Pages the WAL grows by before a commit copies them into the database (SQLite's default is
#: 1,000, about 4 MB). A checkpoint writes each page once however often it changed since the
#: last: answer saves rewrite the same attempt items' pages again and again, so a ten times
#: longer WAL (about 40 MB at most, reused) copies far fewer pages. Measured with wrk against
#: gunicorn (4 workers, SQLite): an answer save 0.82-0.88 ms of server CPU against 1.0 ms.
WAL_AUTOCHECKPOINT_PAGES = 10_000


#: How long (ms) SQLite waits for a lock before answering "database is locked" (per attempt:
#: a writer asks LOCK_ATTEMPTS times, see _begin_immediate).
BUSY_TIMEOUT_MS = 10_000


def _sqlite_begin(conn: sa.Connection) -> None:
    options = conn.get_execution_options()
    if options.get("sqlite_autocommit_reads"):
        # A lean writer (LEAN_WRITERS): its few reads run as single statements, and only its one
        # write takes the lock, with BEGIN IMMEDIATE (write_transaction).
        return
    if options.get("sqlite_immediate"):
        # A read-then-write that must be atomic asks for the write lock up front.
        _begin_immediate(conn)
    else:
        _begin_deferred(conn)


def _begin_deferred(conn: sa.Connection) -> None:
    """BEGIN, sent to SQLite's connection directly: through SQLAlchemy's execution path (its
    events, an execution context) it cost a fifth of what every request's session costs to set
    up and end. Should it fail, it is sent again through that path, which raises SQLAlchemy's
    own error for it (errors.unavailable reads those)."""
    try:
        conn.connection.driver_connection.execute("BEGIN")
    except sqlite3.Error:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **pool) -> sa.Engine:
    """Create an engine with the settings LearnHub relies on for *url*'s backend (*pool*: pool
    options such as pool_size, max_overflow, pool_timeout)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 10}, **pool)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping on every checkout (a round trip per request): connections are recycled after
    # POOL_RECYCLE seconds, a disconnect error invalidates every pooled connection made before it
    # (so after a server restart the next checkouts open fresh ones), and only a connection that
    # sat idle in the pool for PING_AFTER_IDLE seconds is pinged before use.
    pool.setdefault("pool_recycle", POOL_RECYCLE)
    engine = sa.create_engine(url, **pool)
    sa.event.listen(engine.pool, "checkin", _note_idle)
    sa.event.listen(engine.pool, "checkout", _ping_if_idle)
    return engine


#: Seconds after which a pooled PostgreSQL connection is replaced rather than reused.
POOL_RECYCLE = 1800
#: Seconds in the pool after which a connection is pinged before use (busy ones never are).
PING_AFTER_IDLE = 1.0


def _note_idle(_dbapi_conn, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_conn, record, _proxy) -> None:
    since = record.info.pop("idle_since", None)
    if since is None or time.monotonic() - since < PING_AFTER_IDLE:
        return
    try:
        cursor = dbapi_conn.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_conn.rollback()
    except Exception as exc:
        # The pool drops this connection and checks out (or opens) another.
        raise sa.exc.DisconnectionError(str(exc)) from exc


#: POST endpoints that do slow work (password hashing) before they write, or that must hold the
#: lock as briefly as possible (answer saves; starting and submitting an attempt read and compute
#: first): they call write_transaction() themselves (or their service does), before any write.
LATE_WRITERS = {
    "accounts.login",
    "accounts.reauth",
    "accounts.change_password",
    "quizzes.save",
    "quizzes.start",
    "quizzes.submit",
}
#: Late writers whose reads need no snapshot (each read stands alone and the write re-checks
#: everything it relies on): on SQLite their reads run without BEGIN, so the request is the
#: session row, then BEGIN IMMEDIATE, one guarded UPDATE, COMMIT.
LEAN_WRITERS = {"quizzes.save"}


def _begin_writes() -> None:
    if request.endpoint in LEAN_WRITERS and request.method == "POST":
        begin_lean_writer()
        return
    # SQLite: a request that may write takes the write lock first, so that a read-then-write can
    # never fail half-way with "database is locked" because another writer committed in between.
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.endpoint not in LATE_WRITERS:
        write_transaction()


def begin_lean_writer() -> None:
    """Begin a lean writer's request (LEAN_WRITERS; the answer save's door does the same on a
    connection of its own, LeanWrite): on SQLite its reads run without BEGIN, and
    write_transaction() takes the lock for its write alone."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not isinstance(bind, sa.Connection):
        session.connection(execution_options={"sqlite_autocommit_reads": True})


class LeanWrite:
    """A lean writer's own Core connection, outside a request (the answer save's door,
    quizzes.autosave): the work begin_lean_writer and write_transaction do for a request's
    session, without the ORM session's transaction bookkeeping (about a fifth of a save's CPU
    in-process). On SQLite its reads run without BEGIN and lock_for_write() takes the write
    lock for the write alone; commit() or rollback() ends it, close() returns the connection.

    When the session is bound to a connection that holds a transaction already (the tests'
    outer one), it is the session's connection, committed and rolled back as the session is
    (a SAVEPOINT released or rolled back), so that it nests with the session's work as a
    request's does."""

    def __init__(self) -> None:
        bind = session.session_factory.kw["bind"]
        self._own = not isinstance(bind, sa.Connection)
        if self._own:
            self.connection = bind.connect()
            if bind.dialect.name == "sqlite":
                self.connection.execution_options(sqlite_autocommit_reads=True)
        else:
            self.connection = session.connection()

    def commit(self) -> None:
        (self.connection if self._own else session).commit()

    def rollback(self) -> None:
        (self.connection if self._own else session).rollback()

    def close(self) -> None:
        """Give the connection back, rolling back what was not committed (a connection that
        died with its transaction is dropped from the pool)."""
        if not self._own:
            return
        try:
            self.connection.close()
        except sa.exc.DBAPIError:
            self.connection.invalidate()


def lock_for_write(connection: sa.Connection) -> None:
    """write_transaction() for a connection of its own (LeanWrite's): on SQLite, when its reads
    ran without BEGIN, take the write lock now; no-op elsewhere and when already in a
    transaction (a test's)."""
    if connection.get_execution_options().get("sqlite_autocommit_reads"):
        _begin_immediate(connection)


#: Connections a pool may open beyond DATABASE_POOL_SIZE, at least: one for each of the answer
#: threads a gunicorn worker keeps besides its --threads (learnhub.serving.ANSWER_THREADS; a
#: test holds the two together), so a save never waits for a connection held by a submit.
MIN_OVERFLOW = 2


def pool_options(config) -> dict:
    """The engine's pool from DATABASE_POOL_SIZE: that many connections kept, a quarter more
    (at least MIN_OVERFLOW) when busy (none set: SQLAlchemy's defaults)."""
    size = config.get("DATABASE_POOL_SIZE")
    if size in (None, ""):
        return {}
    given = size
    try:
        size = int(size)
    except ValueError:
        size = 0
    if size < 1:
        raise ValueError(f"DATABASE_POOL_SIZE must be a whole number of at least 1, not {given!r}")
    return {"pool_size": size, "max_overflow": max(size // 4, MIN_OVERFLOW)}


def init_app(app: Flask) -> None:
    """Bind the session to the configured database and release it after each request."""
    engine = make_engine(app.config["DATABASE_URL"], **pool_options(app.config))
    session.configure(bind=engine)
    app.extensions["learnhub.engine"] = engine
    app.before_request(_begin_writes)
    app.teardown_appcontext(lambda exc: session.remove())


def is_writer() -> bool:
    """Whether the current transaction holds SQLite's write lock (always False elsewhere: other
    databases lock rows, not the database). A test's outer connection counts as a writer."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    if isinstance(bind, sa.Connection):
        return True
    return session().in_transaction() and bool(
        session.connection().get_execution_options().get("sqlite_immediate")
    )


def write_transaction() -> None:
    """Start the current transaction as a writer (SQLite: BEGIN IMMEDIATE), so a read-then-write
    cannot fail half-way because another writer committed in between. No-op elsewhere, and
    when the transaction has already begun."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or isinstance(bind, sa.Connection):
        return  # PostgreSQL locks rows instead; a test's outer connection is already begun
    if session().in_transaction():
        conn = session.connection()
        options = conn.get_execution_options()
        if options.get("sqlite_immediate"):
            return  # already the writer
        if options.get("sqlite_autocommit_reads"):
            # No read transaction to end: take the lock now, for the write alone.
            _begin_immediate(conn)
            conn.execution_options(sqlite_immediate=True)
            return
        if session.new or session.dirty or session.deleted:
            # Committing here would end a unit of work half-way through its rule.
            raise RuntimeError("write_transaction() after changes: begin the write first")
        session.commit()  # end the read-only part (loading the user, the object)
    session.connection(execution_options={"sqlite_immediate": True})


#: How often a writer asks for SQLite's write lock when busy_timeout ran out.
LOCK_ATTEMPTS = 3


def _begin_immediate(conn: sa.Connection) -> None:
    """The one place SQLite's write lock is taken (BEGIN IMMEDIATE), for every writer: the
    transactions begun as writers (write_transaction, _begin_writes) and the lean writers.
    A writer that finds the lock taken first asks again itself after short pauses
    (_quick_begin), then lets busy_timeout wait; under a burst a writer that still finds it
    taken tries again within the request (bounded: LOCK_ATTEMPTS waits) rather than answering
    503."""
    if _quick_begin(conn):
        return
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sa.exc.OperationalError as exc:
            if "locked" not in str(exc.orig) or attempt == LOCK_ATTEMPTS:
                raise


#: Before a writer leaves the wait for SQLite's write lock to busy_timeout, it asks again itself
#: after each of these pauses (seconds; 6.3 ms in all). SQLite's busy handler sleeps 1, 2, 5,
#: 10 ms… between its own asks, while an answer save holds the lock for about a tenth of a
#: millisecond: under a burst of saves the lock stood free while the writers slept.
QUICK_WAITS = (0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032)


def _quick_begin(conn: sa.Connection) -> bool:
    """BEGIN IMMEDIATE, asked again after each of QUICK_WAITS while the lock is taken (SQLite's
    busy_timeout off meanwhile); False when it is still taken after them."""
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        for wait in (*QUICK_WAITS, None):
            try:
                run_on_cursor(conn, "BEGIN IMMEDIATE")  # exec_driver_sql's, a quarter the CPU
                return True
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc.orig):
                    raise
            if wait is None:
                return False
            time.sleep(wait)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
