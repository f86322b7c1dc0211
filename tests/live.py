"""A real HTTP server for the suite: the same database, a separate app instance, a thread."""

import threading
import time
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from learnhub import create_app, db
from learnhub.accounts import services
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog import services as catalog
from learnhub.orgunits import services as units
from learnhub.quizzes import services as quizzes

BROWSER_PASSWORD = "browser journey passphrase"
BROWSER_BANK = """::B1:: Liên hiệp các tổ chức hữu nghị là tổ chức chính trị - xã hội.{F}

::B2:: Cơ quan cấp Giấy đăng ký cho tổ chức PCPNN? {=Bộ Ngoại giao ~Bộ Nội vụ ~UBND tỉnh}

::B3:: Viết tắt tiếng Anh của Liên hiệp các tổ chức hữu nghị Việt Nam? {=VUFO}
"""


@dataclass
class Latency:
    """How slowly the live server answers. With *seconds* set, each answer's headers and first
    byte go out at once and the rest of its body *seconds* later (in the server's own thread):
    the browser has already moved on to the new page, which is not there yet, as on a loaded
    machine. A fault injected into the server, so that a test can show its waiting holds."""

    seconds: float = 0.0

    def wrap(self, wsgi_app):
        def late(environ, start_response):
            body = wsgi_app(environ, start_response)
            return self._trickle(body) if self.seconds else body

        return late

    def _trickle(self, body):
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        yield data[:1]
        time.sleep(self.seconds)
        yield data[1:]


@pytest.fixture(scope="session")
def server_latency() -> Latency:
    return Latency()


@pytest.fixture
def slow_server(live_server, server_latency):
    """The live server sending the rest of every answer 1.5 s late, for one test."""
    server_latency.seconds = 1.5
    yield live_server
    server_latency.seconds = 0.0


@pytest.fixture(scope="session")
def live_server(app, server_latency):
    """The same database as the suite, a separate app instance, a real HTTP server."""
    live = create_app({**app.config})
    with live.app_context():
        for login, name, roles in (
            ("browser-learner", "Nguyễn Thị Hồng Nhung", [Role.learner]),
            ("browser-admin", "Trần Hồng Quân", [Role.admin]),
            ("browser-trainer", "Lê Văn Ửng", [Role.trainer]),
        ):
            if services.find_by_login(login) is None:
                services.create_user(
                    SYSTEM,
                    full_name=name,
                    login=login,
                    password=BROWSER_PASSWORD,
                    roles=[services.Grant(r) for r in roles],
                    unit=units.by_code("CM-SNV"),
                )
        if catalog.by_slug("hanh-trang-trinh-duyet") is None:
            trainer = services.find_by_login("browser-trainer")
            actor = Actor(trainer)
            module = catalog.create_module(
                actor,
                "hanh-trang-trinh-duyet",
                {
                    "title": "Hành trang kiểm thử trình duyệt",
                    "category": "ky-nang",
                    "summary": "Chuyên đề dùng cho kiểm thử.",
                    "periods": 2,
                },
                trainer,
            )
            draft = catalog.current_draft(module)
            catalog.set_lesson(draft, "bai-mot", "Bài một", "# Bài một\n\nNội dung ban đầu.\n", [])
            catalog.set_lesson(draft, "bai-hai", "Bài hai", "# Bài hai\n\nTiếp theo.\n", [])
            catalog.save_draft(actor, module, draft)
            quizzes.import_gift(actor, module, BROWSER_BANK)
            catalog.publish(actor, module)
            quiz = quizzes.ensure_quiz(module)
            quiz.shuffle_questions = quiz.shuffle_choices = False
        db.session.commit()
        db.session.remove()
    live.wsgi_app = server_latency.wrap(live.wsgi_app)
    # make_server binds and listens before it returns: the address accepts connections (they
    # wait in the listen queue) before the thread below starts serving them.
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    live.extensions["learnhub.engine"].dispose()
