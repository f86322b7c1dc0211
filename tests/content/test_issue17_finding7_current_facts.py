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
