"""`flask content check`: the shipped content passes; planted errors are named by file:line."""

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_content_passes(runner):
    result = runner.invoke(args=["content", "check", str(ROOT / "content")])
    assert result.exit_code == 0, result.output
    assert "content OK: 4 module(s)" in result.output


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_every_planted_error_is_reported(runner, copy):
    module = copy / "modules" / "doi-ngoai-nhan-dan"
    toml = module / "module.toml"
    lessons = sorted((module / "lessons").glob("*.md"))
    bank = next((module / "questions").glob("*.gift"))
    other = copy / "modules" / "ky-nang-doi-ngoai"
    other_lessons = sorted((other / "lessons").glob("*.md"))

    expected: list[tuple[Path, int, str]] = []
    # 1. unknown key
    _edit(toml, "periods =", "duration = 3\nperiods =")
    expected.append((toml, _line_of(toml, "duration ="), "unknown key 'duration'"))
    # 2. value of the wrong type
    _edit(toml, "\npass_mark = 5.0", '\npass_mark = "năm"')
    expected.append((toml, _line_of(toml, "pass_mark ="), "'quiz.pass_mark' must be float"))
    # 3. TOML syntax error in a lesson's front matter
    _edit(lessons[1], "title = ", "title = = ")
    expected.append((lessons[1], 2, "front matter TOML syntax"))
    # 4. a missing lesson (gap in the numbering)
    lessons[2].unlink()
    expected.append((module / "lessons", 1, "lesson 03 is missing"))
    # 5. an image that does not exist
    _edit(lessons[0], "\n\n", "\n\n![Sơ đồ](../assets/khong-co.png)\n\n", 2)
    expected.append((lessons[0], _line_of(lessons[0], "khong-co.png"), "trong assets/"))
    # 6. a link with a forbidden scheme
    _edit(lessons[3], "\n\n", "\n\n[bấm vào đây](javascript:alert(1))\n\n", 2)
    expected.append((lessons[3], _line_of(lessons[3], "javascript:"), "dùng giao thức bị cấm"))
    # 7. text not in NFC (decomposed "ễ")
    _edit(other_lessons[0], "\n\n", "\n\nNguye\u0302\u0303n\n\n", 2)
    expected.append(
        (other_lessons[0], _line_of(other_lessons[0], "Nguye\u0302\u0303n"), "not in Unicode NFC")
    )
    # 8. GIFT syntax: an unclosed answer block
    text = bank.read_text(encoding="utf-8")
    first_q = next(m for m in re.finditer(r"^::", text, re.M))
    line = text[: first_q.start()].count("\n") + 1
    block_end = text.index("}", first_q.start())
    bank.write_text(text[:block_end] + text[block_end + 1 :], encoding="utf-8")
    expected.append((bank, line, "GIFT: Dấu ngoặc { } không cân đối"))
    # 9. a lesson file with a bad name
    (other / "lessons" / "bai-khong-so.md").write_text(
        '+++\ntitle = "x"\n+++\n\nx\n', encoding="utf-8"
    )
    expected.append((other / "lessons" / "bai-khong-so.md", 1, "must be NN-slug.md"))
    # 10. a link to a lesson that does not exist
    _edit(other_lessons[1], "\n\n", "\n\n[bài sau](09-khong-co.md)\n\n", 2)
    expected.append(
        (other_lessons[1], _line_of(other_lessons[1], "09-khong-co.md"), "không trỏ tới bài học")
    )
    # 11. missing required key
    _edit(other / "module.toml", "periods =", "# periods =")
    expected.append((other / "module.toml", 1, "missing key 'periods'"))
    # 12. a unit whose parent is not defined
    _edit(copy / "org-units.toml", 'parent = "CM-UBND"', 'parent = "KHONG-CO"')
    expected.append((copy / "org-units.toml", None, "parent 'KHONG-CO'"))

    result = runner.invoke(args=["content", "check", str(copy)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for path, line, message in expected:
        prefix = f"{path}:{line}: " if line is not None else f"{path}:"
        assert any(x.startswith(prefix) and message in x for x in lines), (prefix, message, lines)


def test_check_one_module_folder(runner, copy):
    module = copy / "modules" / "quan-ly-to-chuc-pcpnn"
    assert runner.invoke(args=["content", "check", str(module)]).exit_code == 0
    (module / "assets").mkdir(exist_ok=True)
    (module / "assets" / "trang.png").write_bytes(b"<html><script>alert(1)</script></html>")
    result = runner.invoke(args=["content", "check", str(module)])
    assert result.exit_code == 1
    assert "trang.png:1: asset type not accepted" in result.output


def test_sync_refuses_broken_content(runner, app, copy):
    _edit(copy / "modules" / "doi-ngoai-nhan-dan" / "module.toml", "periods =", "periodz =")
    old = app.config["CONTENT_DIR"]
    app.config["CONTENT_DIR"] = str(copy)
    try:
        result = runner.invoke(args=["content", "sync"])
    finally:
        app.config["CONTENT_DIR"] = old
    assert result.exit_code == 1
    assert "nothing loaded" in result.output
