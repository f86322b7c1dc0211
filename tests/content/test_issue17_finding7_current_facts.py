"""Issue 17, finding 7: the content states facts current as of 2026.

- No lesson, question or unit presents Sở Ngoại vụ (Cà Mau) as a current body: it was dissolved on
  06/12/2019 (HĐND tỉnh Cà Mau khóa IX) and its work moved to Văn phòng UBND tỉnh. Every line
  that names it is a dated, historical line.
- Chỉ thị 38-CT/TW is attributed to the Ban Bí thư khóa XII, not "Trung ương Đảng".
- The two unverified points (the provincial committee on foreign NGO work after 2025, the 2025
  decrees and Nghị định 80/2020's approval powers) are marked as unverified.
- Công an tỉnh and Trường Chính trị tỉnh are among the units; demo people have invented names.
"""

import re
from datetime import date
from pathlib import Path

from learnhub.content.orgunits import read_units
from learnhub.demo import DEMO_USERS
from learnhub.formats import gift
from learnhub.orgunits.models import UnitKind

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
#: A line naming the department must date it as history.
HISTORY_MARKS = ("2019", "trước đây", "đã giải thể")
SO_NGOAI_VU = re.compile(r"Sở Ngoại vụ(?! (?:TPHCM|Thành phố|tỉnh Bình))")


def _content_files():
    patterns = ("modules/*/lessons/*.md", "modules/*/questions/*.gift", "modules/*/module.toml")
    for pattern in patterns:
        yield from sorted(CONTENT.glob(pattern))


def test_no_lesson_or_question_presents_so_ngoai_vu_as_current():
    offending = []
    for path in _content_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SO_NGOAI_VU.search(line) and not any(m in line for m in HISTORY_MARKS):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line[:120]}")
    # Quiz options name the department in a question about the 2017 plan; the question's own
    # text dates it ("Theo Kế hoạch 72/KH-UBND"), so options are allowed when the question is.
    offending = [o for o in offending if not _is_dated_quiz_option(o)]
    assert offending == []


def _is_dated_quiz_option(entry: str) -> bool:
    path, number, _rest = entry.split(":", 2)
    if not path.endswith(".gift"):
        return False
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    # The question's opening line ("::ID:: …{") is the nearest one above starting with "::".
    for line in reversed(lines[: int(number) - 1]):
        if line.startswith("::"):
            return "Kế hoạch 72/KH-UBND" in line
    return False


def test_so_ngoai_vu_unit_is_historical_with_the_office_as_successor():
    rows, problems = read_units(CONTENT / "org-units.toml")
    assert problems == []
    units = {r.code: r for r in rows}
    named = [r for r in rows if "Sở Ngoại vụ" in r.name]
    assert [r.code for r in named] == ["CM-SNGV"]
    unit = units["CM-SNGV"]
    assert unit.valid_to == date(2019, 12, 6)
    assert unit.successor_code == "CM-VPUB"
    assert unit.parent_code == "CM-CU"  # under the former province, not the current tree
    assert "đã giải thể" in unit.name


def test_units_include_cong_an_and_truong_chinh_tri():
    rows, _problems = read_units(CONTENT / "org-units.toml")
    names = {r.name: r for r in rows}
    assert names["Công an tỉnh Cà Mau"].valid_to is None
    assert names["Trường Chính trị tỉnh Cà Mau"].parent_code == "CM-TU"
    assert names["Trường Chính trị tỉnh Cà Mau"].kind == UnitKind.office


def test_chi_thi_38_is_attributed_to_the_secretariat():
    for path in _content_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if "38-CT/TW" in line and "|" in line:
                assert "Trung ương Đảng |" not in line, line
    overview = CONTENT / "modules/doi-ngoai-nhan-dan/lessons/01-tong-quan-doi-ngoai-nhan-dan.md"
    assert "| Chỉ thị 38-CT/TW | 19/09/2019 | Ban Bí thư khóa XII |" in overview.read_text(
        encoding="utf-8"
    )


def test_unverified_points_are_marked_unverified():
    lesson = CONTENT / "modules/quan-ly-to-chuc-pcpnn/lessons/05-to-chuc-thuc-hien-tai-ca-mau.md"
    text = lesson.read_text(encoding="utf-8")
    paragraph = next(p for p in text.split("\n") if "Ban Chỉ đạo liên ngành (ủy ban)" in p)
    assert "Chưa xác minh" in paragraph
    assert "Nghị định 80/2020/NĐ-CP" in paragraph


def test_module_legal_refs_list_documents_in_force():
    import tomllib

    meta = tomllib.loads((CONTENT / "modules/doi-ngoai-nhan-dan/module.toml").read_text())
    assert "Chỉ thị 04-CT/TW" not in meta["legal_refs"]
    assert "Hướng dẫn 02-HD/BĐNTW" not in meta["legal_refs"]
    assert "Chỉ thị 12-CT/TW" in meta["legal_refs"]


def test_demo_people_have_invented_names():
    names = {name for _login, name, *_rest in DEMO_USERS}
    assert "Trần Hồng Quân" not in names
    assert all("Mẫu" in n or n == "Quản Trị Viên" for n in names)


# -- the certainty found (docs/content-facts.md) --------------------------------------------------
#
# Verified: the 2020 text of Nghị định 80/2020, Điều 7. Reported by two sources: Sở Ngoại vụ Cà
# Mau dissolved on 06/12/2019, its work moved to Văn phòng UBND tỉnh. Not found: which body
# advises on ngoại vụ after the 2025 merger, Nghị định 45/2025 Điều 9's text, any 2025 amendment
# of Điều 7, the provincial committee on foreign NGO work after 2025.


def _lessons_and_questions():
    for pattern in ("modules/*/lessons/*.md", "modules/*/questions/*.gift"):
        yield from sorted(CONTENT.glob(pattern))


def _questions():
    for path in sorted(CONTENT.glob("modules/*/questions/*.gift")):
        questions, errors = gift.parse(path.read_text(encoding="utf-8"))
        assert errors == [], path
        yield from questions


def _question_text(question) -> str:
    """Everything a learner reads in a question: stem, options, pairs and feedback."""
    parts = [question.text, question.general_feedback, question.feedback_wrong]
    parts += [question.feedback_right]
    parts += [a.text for a in question.answers] + [a.feedback for a in question.answers]
    parts += [side for pair in question.pairs for side in pair]
    return "\n".join(parts)


def test_no_content_states_the_foreign_affairs_body_after_2025_as_certain():
    """ "nay thuộc / nay là Văn phòng UBND tỉnh" states a 2026 fact that was not verified."""
    current = re.compile(r"\b(?:nay|hiện nay) (?:là|thuộc) Văn phòng UBND", re.IGNORECASE)
    offending = []
    for path in _lessons_and_questions():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if current.search(line):
                offending.append(f"{path.relative_to(ROOT)}:{number}")
    assert offending == []


def test_decree_45_2025_is_cited_only_as_quoted_and_never_in_a_quiz():
    cited = []
    for path in _lessons_and_questions():
        for line in path.read_text(encoding="utf-8").splitlines():
            if "45/2025" in line:
                assert path.suffix == ".md", f"{path.name}: a quiz relies on an unread decree"
                assert "trích dẫn" in line, line[:160]
                assert "chưa đọc văn bản gốc" in line, line[:160]
                cited.append(path.name)
    assert cited  # the two lessons on the foreign-affairs body say what is known and what is not


def test_lessons_say_the_foreign_affairs_body_after_2025_is_unverified():
    for lesson in (
        "doi-ngoai-nhan-dan/lessons/05-tinh-ca-mau-moi-va-doi-chieu.md",
        "quan-ly-to-chuc-pcpnn/lessons/05-to-chuc-thuc-hien-tai-ca-mau.md",
    ):
        text = (CONTENT / "modules" / lesson).read_text(encoding="utf-8")
        paragraph = next(p for p in text.split("\n") if "45/2025" in p)
        assert "hưa xác minh" in paragraph, lesson
        assert "hợp nhất" in paragraph, lesson  # the merged province of 01/07/2025


def test_quiz_keys_on_aid_approval_name_the_2020_text():
    """A quiz key on who approves aid (Điều 7) must not depend on whether 2025 amended it."""
    approval = [q for q in _questions() if any("80/2020/NĐ-CP, Điều 7" in r for r in q.refs)]
    assert len(approval) >= 6
    undated = [q.name for q in approval if "năm 2020" not in q.text]
    assert undated == []


def test_lessons_on_aid_approval_mark_later_amendments_unverified():
    for path in sorted(CONTENT.glob("modules/*/lessons/*.md")):
        text = path.read_text(encoding="utf-8")
        if "Thẩm quyền phê duyệt" not in text and "Ai phê duyệt?" not in text:
            continue
        assert "văn bản ban hành năm 2020" in text, path.name
        assert "chưa xác minh" in text, path.name


def test_no_quiz_question_is_about_the_provincial_ngo_committee():
    offending = [q.name for q in _questions() if "Ban Chỉ đạo" in _question_text(q)]
    assert offending == []
