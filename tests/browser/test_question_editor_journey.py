"""Issue 15 acceptance: a trainer builds a module in the browser (two lessons, one question of
each type written and previewed in the editor), publishes it; a learner takes the quiz and gets the
score the trainer expects; the trainer edits a question and the finished attempt stays as it was.
Both sides without JavaScript, on a 360 px screen."""

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.orgunits import services as units
from learnhub.quizzes.models import Attempt
from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

SLUG = "soan-cau-hoi-tren-web"
#: A learner of this journey alone (other journeys count the shared learner's attempts).
LEARNER = "browser-editor-learner"
SINGLE = "Cơ quan nào cấp Giấy đăng ký cho tổ chức phi chính phủ nước ngoài?"


def _context(browser):
    return browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="vi-VN"
    )


def _sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/dashboard")


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _rows(page, prefix, rows):
    for i, row in enumerate(rows):
        for key, value in row.items():
            page.locator(f'[name="{prefix}-{i}-{key}"]').fill(value)


def _write(page, kind, text, check, rows=(), pairs=(), add=0, fill=None):
    """Open the editor for *kind*, fill it, preview (checking *check* in it), save."""
    page.get_by_label("Loại câu hỏi").select_option(label=kind)
    page.get_by_role("button", name="Soạn câu hỏi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Câu hỏi mới: {kind}")
    _fits(page)
    for _ in range(add):
        page.get_by_role("button", name="Thêm đáp án").click()
    page.get_by_label("Nội dung câu hỏi").fill(text)
    _rows(page, "answers", rows)
    _rows(page, "pairs", pairs)
    if fill is not None:
        fill(page)
    page.get_by_label("Nhóm câu hỏi").fill("Đối ngoại")
    page.get_by_label("Căn cứ pháp lý (mỗi dòng một văn bản)").fill("Nghị định 12/2012/NĐ-CP")
    page.get_by_role("button", name="Xem trước").click()
    preview = page.locator("section.preview .question")
    expect(preview.locator("legend")).to_have_text(f"Câu 1. {text}")
    expect(check(preview)).to_be_visible()
    page.get_by_role("button", name="Lưu câu hỏi").click()
    expect(page.get_by_text("Đã lưu câu hỏi (phiên bản 1).")).to_be_visible()


def _true_with_feedback(page):
    page.get_by_label("Đúng", exact=True).check()
    page.get_by_label("Phản hồi khi trả lời đúng").fill("Chính xác.")


def _trainer_builds_the_module(page, base):
    _sign_in(page, base, "browser-trainer")
    page.goto(f"{base}/manage/modules/")
    page.get_by_role("link", name="Tạo chuyên đề mới").click()
    page.get_by_label("Mã chuyên đề (dùng trong địa chỉ)").fill(SLUG)
    page.get_by_label("Tên chuyên đề").fill("Soạn câu hỏi trên web")
    page.get_by_label("Tóm tắt").fill("Chuyên đề soạn hoàn toàn trên trình duyệt.")
    page.get_by_label("Số tiết").fill("2")
    page.get_by_role("button", name="Tạo").click()
    for slug, title in (("bai-mot", "Bài một"), ("bai-hai", "Bài hai")):
        page.get_by_role("link", name="Thêm bài học").click()
        page.get_by_label("Mã bài học").fill(slug)
        page.get_by_label("Tiêu đề bài học").fill(title)
        page.get_by_label("Nội dung (Markdown)").fill(f"# {title}\n\nNội dung {title.lower()}.\n")
        page.get_by_role("button", name="Lưu", exact=True).click()
        expect(page.get_by_text("Đã lưu phiên bản")).to_be_visible()

    page.get_by_role("link", name="Ngân hàng câu hỏi").click()
    _write(
        page,
        "Trắc nghiệm một đáp án",
        SINGLE,
        lambda p: p.get_by_label("Bộ Ngoại giao"),
        rows=[
            {"text": "Bộ Ngoại giao", "weight": "100", "feedback": "Đúng: Nghị định 12."},
            {"text": "Bộ Nội vụ"},
            {"text": "UBND tỉnh"},
        ],
    )
    _write(
        page,
        "Trắc nghiệm nhiều đáp án",
        "Những tỉnh nào giáp biển?",
        lambda p: p.get_by_text("Chọn một hoặc nhiều đáp án."),
        rows=[
            {"text": "Cà Mau", "weight": "50"},
            {"text": "Kiên Giang", "weight": "50"},
            {"text": "Hậu Giang", "weight": "-100", "feedback": "Hậu Giang không giáp biển."},
        ],
    )
    _write(
        page,
        "Đúng/Sai",
        "Cà Mau là tỉnh cực Nam của Tổ quốc.",
        lambda p: p.get_by_label("Sai"),
        fill=_true_with_feedback,
    )
    _write(
        page,
        "Trả lời ngắn",
        "Viết tắt tiếng Anh của Liên hiệp các tổ chức hữu nghị Việt Nam?",
        lambda p: p.get_by_label("Câu trả lời"),
        rows=[{"text": "VUFO"}],
    )
    _write(
        page,
        "Trả lời bằng số",
        "Nhiệt độ trung bình năm ở Cà Mau khoảng bao nhiêu độ C?",
        lambda p: p.locator('input[inputmode="decimal"]'),
        rows=[{"text": "27", "tolerance": "1,5"}, {"low": "20", "high": "30", "weight": "50"}],
        add=1,
    )
    _write(
        page,
        "Ghép đôi",
        "Ghép mỗi cơ quan với việc của nó.",
        lambda p: p.locator("select").nth(1),  # two pairs, two drop-downs
        pairs=[
            {"left": "Sở Ngoại vụ", "right": "Đoàn ra, đoàn vào"},
            {"left": "Sở Nội vụ", "right": "Tổ chức bộ máy"},
            {"right": "Đất đai"},
        ],
    )
    _write(
        page,
        "Điền từ còn thiếu",
        "Tỉnh lỵ của Cà Mau là thành phố _____ .",
        lambda p: p.get_by_label("Bạc Liêu"),
        rows=[{"text": "Cà Mau", "weight": "100"}, {"text": "Bạc Liêu"}],
    )
    _write(
        page,
        "Tự luận",
        "Nêu ba việc cần làm khi đón đoàn khách nước ngoài.",
        lambda p: p.get_by_label("Bài viết"),
    )
    _fits(page)
    bank = page.locator("table tbody")
    for kind in ("Trắc nghiệm một đáp án", "Điền từ còn thiếu", "Ghép đôi", "Tự luận"):
        assert bank.get_by_text(kind, exact=True).count() == 1

    page.get_by_role("link", name="Cài đặt bài kiểm tra").click()
    page.get_by_label("Tên bài kiểm tra").fill("Kiểm tra soạn trên web")
    page.get_by_label("Sau khi nộp, học viên được xem").select_option("full")
    page.get_by_role("button", name="Lưu").click()
    page.goto(f"{base}/manage/modules/")
    page.get_by_role("link", name="Soạn câu hỏi trên web").click()
    page.get_by_role("button", name="Công bố phiên bản").click()
    expect(page.get_by_text("Đã công bố phiên bản")).to_be_visible()


def _card(page, text):
    return page.locator("form.question", has_text=text)


def _save(page, text):
    _card(page, text).get_by_role("button", name="Lưu").click()


def _learner_takes_the_quiz(page, base):
    _sign_in(page, base, LEARNER)
    page.goto(f"{base}/modules/{SLUG}")
    page.get_by_role("link", name="Kiểm tra soạn trên web").click()
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    _fits(page)
    _card(page, SINGLE).get_by_label("Bộ Ngoại giao").check()
    _save(page, SINGLE)
    _card(page, "giáp biển").get_by_label("Cà Mau").check()  # half of the right choices
    _save(page, "giáp biển")
    _card(page, "cực Nam").get_by_label("Đúng").check()
    _save(page, "cực Nam")
    _card(page, "Viết tắt").get_by_label("Câu trả lời").fill("vufo")
    _save(page, "Viết tắt")
    _card(page, "Nhiệt độ").get_by_label("Câu trả lời").fill("26,5")
    _save(page, "Nhiệt độ")
    _card(page, "Ghép mỗi").get_by_label("Sở Ngoại vụ").select_option(label="Đoàn ra, đoàn vào")
    _card(page, "Ghép mỗi").get_by_label("Sở Nội vụ").select_option(label="Tổ chức bộ máy")
    _save(page, "Ghép mỗi")
    _card(page, "Tỉnh lỵ").get_by_label("Cà Mau").check()
    _save(page, "Tỉnh lỵ")
    _card(page, "Nêu ba việc").get_by_label("Bài viết").fill("Đón, làm việc, tiễn.")
    _save(page, "Nêu ba việc")
    expect(page.get_by_text("Đã trả lời 8/8 câu.")).to_be_visible()
    page.get_by_label("Tôi đã kiểm tra và muốn nộp bài").check()
    page.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url("**/review")
    expect(page.get_by_text("Bài thu hoạch đang chờ giảng viên chấm")).to_be_visible()


def test_trainer_writes_every_type_learner_gets_expected_score_edit_keeps_attempt(
    live_server, browser, app
):
    with app.app_context():
        if accounts.find_by_login(LEARNER) is None:
            accounts.create_user(
                SYSTEM,
                full_name="Phạm Thị Thu Hà",
                login=LEARNER,
                password=BROWSER_PASSWORD,
                roles=[accounts.Grant(Role.learner)],
                unit=units.by_code("CM-SNV"),
            )
            db.session.commit()
        db.session.remove()
    trainer_context, learner_context = _context(browser), _context(browser)
    trainer, learner = trainer_context.new_page(), learner_context.new_page()
    _trainer_builds_the_module(trainer, live_server)
    _learner_takes_the_quiz(learner, live_server)

    # The trainer grades the essay 5/10: 1 + 0.5 + 1 + 1 + 1 + 1 + 1 + 0.5 = 7 of 8 → 8.75.
    trainer.goto(f"{live_server}/modules/{SLUG}")
    trainer.get_by_role("link", name="Kết quả bài kiểm tra").click()
    trainer.get_by_role("link", name="Phạm Thị Thu Hà").first.click()
    trainer.get_by_label("Điểm (thang 10)").fill("5")
    trainer.get_by_role("button", name="Lưu điểm").click()
    learner.reload()
    expect(learner.get_by_text("8,75/10")).to_be_visible()

    # The trainer corrects the single-choice question: new text, another right answer.
    trainer.goto(f"{live_server}/modules/{SLUG}")
    trainer.get_by_role("link", name="Ngân hàng câu hỏi").click()
    trainer.get_by_role("link", name=SINGLE).click()
    expect(trainer.get_by_text("đã có trong 1 lượt làm bài")).to_be_visible()
    trainer.get_by_label("Nội dung câu hỏi").fill("Câu hỏi đã sửa: cơ quan nào cấp phép?")
    trainer.locator('[name="answers-0-weight"]').fill("0")
    trainer.locator('[name="answers-1-weight"]').fill("100")
    trainer.get_by_role("button", name="Lưu câu hỏi").click()
    expect(trainer.get_by_text("Đã lưu câu hỏi (phiên bản 2).")).to_be_visible()

    learner.reload()
    expect(learner.get_by_text("8,75/10")).to_be_visible()
    expect(learner.get_by_text(SINGLE)).to_be_visible()
    assert learner.get_by_text("Câu hỏi đã sửa").count() == 0
    trainer_context.close()
    learner_context.close()

    with app.app_context():
        user = accounts.find_by_login(LEARNER)
        attempt = db.session.scalars(
            select(Attempt).where(Attempt.user_id == user.id).order_by(Attempt.id.desc())
        ).first()
        assert str(attempt.score) == "8.75"
        single = next(i for i in attempt.items if i.snapshot["text"] == SINGLE)
        assert single.snapshot["revision"] == 1
        assert single.question.revision == 2
        db.session.remove()
