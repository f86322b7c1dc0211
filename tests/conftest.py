"""Fixtures: the app on SQLite or PostgreSQL, a rolled-back session per test, factories."""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, settings

from learnhub import create_app, db, stencils
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.cli import alembic_config
from learnhub.content.cli import check_tree
from learnhub.content.sync import sync_content
from learnhub.orgunits import services as units
from tests.live import live_server, server_latency, slow_server  # noqa: F401 (fixtures for every folder)
from tests.support import csrf_token, require

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"

# Property tests on a loaded machine: an example that is slow is not wrong. No per-example
# deadline (hypothesis' default of 200 ms fails a test, or calls it flaky, under load).
settings.register_profile(
    "learnhub", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "learnhub"))


def _database_url(tmp_path_factory) -> str:
    if os.environ.get("LEARNHUB_TEST_BACKEND") == "postgresql":
        url = os.environ.get("LEARNHUB_TEST_DATABASE_URL", "")
        require(bool(url), "LEARNHUB_TEST_DATABASE_URL is not set")
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def make_config(tmp_path: Path, url: str) -> dict:
    return {
        "TESTING": True,
        "ENV": "testing",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "CONTENT_DIR": str(ROOT / "content"),
        "STORAGE_DIR": str(tmp_path / "storage"),
        "CERTIFICATE_KEY_FILE": str(tmp_path / "certificate-signing-key.pem"),
        # Argon2id with a tiny cost: same code path, fast suite.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
    }


def prepare_database(app) -> None:
    """Empty the database, apply every migration, and load the unit tree."""
    engine = app.extensions["learnhub.engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        assert check_tree(ROOT / "content") == []
        list(sync_content(SYSTEM, ROOT / "content", Path(app.config["STORAGE_DIR"])))
        db.session.commit()
        db.session.remove()


def compile_catalogs() -> None:
    """Build the .mo files from the committed .po catalogs (as `make` does)."""
    for po in (ROOT / "learnhub" / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            catalog = read_po(f)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    compile_catalogs()
    tmp = tmp_path_factory.mktemp("app")
    app = create_app(make_config(tmp, _database_url(tmp_path_factory)))
    prepare_database(app)
    yield app
    app.extensions["learnhub.engine"].dispose()


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Run each test inside a transaction that is rolled back afterwards (and with no render
    kept from another test's rows: their ids come again, see stencils.forget_kept)."""
    stencils.forget_kept()
    engine = app.extensions["learnhub.engine"]
    if "no_rollback" in request.keywords:
        # The session is bound to the suite's database even when an earlier test made an app of
        # its own (create_app binds the session to the newest app's engine).
        db.session.remove()
        db.session.configure(bind=engine)
        yield None
        db.session.remove()
        db.session.configure(bind=engine)
        return
    with app.app_context(), engine.connect() as conn:
        trans = conn.begin()
        db.session.configure(bind=conn, join_transaction_mode="create_savepoint")
        yield db.session
        db.session.remove()
        trans.rollback()
    db.session.configure(bind=engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def unit():
    """Return a unit by code."""

    def _unit(code: str):
        found = units.by_code(code)
        assert found is not None, code
        return found

    return _unit


@pytest.fixture
def create_user(db_session):
    """Return a function that adds a user; call it as often as a test needs."""
    counter = iter(range(1, 100_000))

    def _create_user(
        login: str | None = None,
        roles=(Role.learner,),
        password: str = PASSWORD,
        full_name: str = "Nguyễn Văn An",
        unit=None,
        scope=None,
        **kwargs,
    ):
        login = login or f"user{next(counter)}"
        # HR without *scope* is the explicit "every unit" grant (services.check_grants).
        grants = [
            accounts.Grant(
                Role(r),
                scope.id if scope is not None and r in ("trainer", "hr") else None,
                every_unit=scope is None,
            )
            for r in roles
        ]
        user = accounts.create_user(
            SYSTEM,
            full_name=full_name,
            login=login,
            password=password,
            roles=grants,
            unit=unit,
            **kwargs,
        )
        db_session.flush()
        return user

    return _create_user


@pytest.fixture
def login(client):
    """Sign *user* in through the real sign-in form."""

    def _login(user, password: str = PASSWORD, c=None):
        c = c or client
        token = csrf_token(c, "/login")
        response = c.post(
            "/login", data={"login": user.login, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c

    return _login


@pytest.fixture
def learner(create_user, unit):
    return create_user("hocvien", full_name="Nguyễn Thị Hồng Nhung", unit=unit("CM-SNV"))


@pytest.fixture
def trainer(create_user, unit):
    return create_user("giangvien", roles=(Role.trainer, Role.learner), unit=unit("CM-LHHN"))


@pytest.fixture
def hr(create_user, unit):
    return create_user("tochuc", roles=(Role.hr,), unit=unit("CM-SNV"), scope=unit("CM-SNV"))


@pytest.fixture
def admin(create_user, unit):
    return create_user("quantri", roles=(Role.admin,), unit=unit("CM-SNV"))
