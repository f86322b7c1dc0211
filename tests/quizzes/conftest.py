"""Quiz fixtures: a small module with one question of each kind."""

import random
from datetime import timedelta

import pytest

from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.quizzes import services
from learnhub.timeutil import utcnow
from tests.support import csrf_token

BANK = """$CATEGORY: $course$/top/Một

::TF:: Đối ngoại nhân dân là một trụ cột của đối ngoại Việt Nam.{T#Sai#Đúng}

::MC:: Cơ quan nào cấp Giấy đăng ký? {=Bộ Ngoại giao#Đúng ~Bộ Nội vụ#Sai ~UBND tỉnh#Sai}

$CATEGORY: $course$/top/Hai

::MR:: Chọn hai đáp án đúng {~%50%A ~%50%B ~%-100%C}

::SA:: Viết tắt của Liên hiệp các tổ chức hữu nghị Việt Nam? {=VUFO}

$CATEGORY: $course$/top/Ba

::NUM:: Năm ban hành Chỉ thị 04-CT/TW? {#2011}

::ESSAY:: Viết bài thu hoạch ngắn. {}
"""


@pytest.fixture
def quiz_module(admin):
    actor = services.Actor(admin) if hasattr(services, "Actor") else SYSTEM
    module = catalog.create_module(
        actor,
        "kiem-tra-thu",
        {"title": "Kiểm tra thử", "category": "ky-nang", "summary": "x", "periods": 1},
        admin,
    )
    draft = catalog.current_draft(module)
    catalog.set_lesson(draft, "bai-1", "Bài 1", "Nội dung.\n", [])
    catalog.save_draft(actor, module, draft)
    services.import_gift(actor, module, BANK)
    catalog.publish(actor, module)  # its quiz has questions: publishing is allowed
    return module


@pytest.fixture
def quiz(quiz_module):
    q = services.ensure_quiz(quiz_module)
    q.shuffle_questions = False
    q.shuffle_choices = False
    return q


@pytest.fixture
def now():
    return utcnow()


@pytest.fixture
def rng():
    return random.Random(7)


@pytest.fixture
def later(now):
    return lambda **kw: now + timedelta(**kw)


@pytest.fixture
def started(client, login, learner, quiz):
    """The learner signed in, their attempt at *quiz* started: (attempt id, CSRF token)."""
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    response = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    attempt_id = int(response.location.rsplit("/", 1)[1])
    return attempt_id, token
