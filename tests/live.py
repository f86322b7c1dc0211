"""A real HTTP server for the suite: the same database, a separate app instance, a thread."""

import threading

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


@pytest.fixture(scope="session")
def live_server(app):
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
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    live.extensions["learnhub.engine"].dispose()
