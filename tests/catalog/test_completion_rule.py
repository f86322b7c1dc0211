"""Issue 14, finding 6: one typed completion rule (content.completion.CompletionRule), with one
set of defaults whichever path reads it, validated from module.toml and the authoring form."""

import shutil
from datetime import date
from pathlib import Path

import pytest

from learnhub import db
from learnhub.attendance import services as attendance
from learnhub.catalog import services
from learnhub.catalog.forms import CompletionRuleForm
from learnhub.content import completion
from learnhub.content.completion import CompletionRule
from learnhub.content.modules import read_meta
from learnhub.reports import periodic
from tests.certificates.conftest import open_class
from tests.reports.test_records import enrol
from tests.support import csrf_token

ROOT = Path(__file__).resolve().parents[2]


def test_the_rule_is_a_frozen_dataclass_with_the_documented_defaults():
    rule = CompletionRule()
    assert rule == completion.DEFAULT
    assert (rule.lessons, rule.quiz, rule.essay) == ("all", True, False)
    assert (rule.attendance_share, rule.count_excused, rule.late_weight) == (0.8, True, 1.0)
    with pytest.raises(AttributeError):
        rule.attendance_share = 0.5  # type: ignore[misc]
    # The documented table (docs/content-format.md) is this rule's defaults.
    documented = (ROOT / "docs" / "content-format.md").read_text(encoding="utf-8")
    assert "attendance_share = 0.8" in documented


def test_finding_6_one_default_for_the_attendance_share_whichever_path(trainer, create_user, app):
    """Finding 6: a class whose module version has no [completion] table asked for 80% of the
    periods in the learner's checklist but 0% in the trainers' "below the threshold" list."""
    klass = open_class(trainer, "QT-2026-01")  # two sessions, 5 and 6/01/2026
    klass.version.meta = {k: v for k, v in klass.version.meta.items() if k != "completion"}
    db.session.flush()
    learner = create_user("qt-hv", full_name="Nguyễn Văn Quy")
    enrol(klass, learner)
    assert klass.completion_rule() == completion.DEFAULT
    assert klass.version.completion_rule() == completion.DEFAULT
    # The learner attended nothing: below 80% for the trainers as in the checklist.
    flagged = attendance.below_threshold(klass, [learner], date(2026, 1, 9))
    assert [user.id for user, _got, _held in flagged] == [learner.id]
    items = {item.key: item for item in attendance.checklist(klass, learner).items}
    assert items["attendance"].label == "Tham dự đủ 80% số tiết"
    assert not items["attendance"].done
    # A file without the table, a new module in the browser and a blank form agree.
    meta = services.normalise_meta({"title": "x"})
    assert completion.from_meta(meta["completion"]) == completion.DEFAULT
    with app.test_request_context():
        assert CompletionRuleForm.of(completion.DEFAULT).rule() == (completion.DEFAULT, {})
    # The unit report reads the same rule from its columns.
    assert periodic.completion.from_meta(None).with_overrides({}) == completion.DEFAULT


def test_class_overrides_are_typed_too(trainer):
    klass = open_class(trainer, "QT-2026-02")
    klass.rule = {"attendance_share": 1, "late_weight": 0.5, "count_excused": "no"}
    rule = klass.completion_rule()
    assert (rule.attendance_share, rule.late_weight) == (1.0, 0.5)
    assert rule.count_excused is True  # an invalid override is ignored


@pytest.fixture
def content_copy(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def test_finding_6_invalid_rule_in_module_toml_is_refused_with_file_and_line(runner, content_copy):
    toml = content_copy / "modules" / "doi-ngoai-nhan-dan" / "module.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace("attendance_share = 0.8", "attendance_share = 1.5")
    text = text.replace('lessons = "all"', 'lessons = "some"')
    text = text.replace("count_excused = true", 'count_excused = "yes"\nmin_score = 5')
    toml.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["content", "check", str(content_copy)])
    assert result.exit_code != 0
    out = result.output
    share = _line_of(toml, "attendance_share =")
    assert (
        f"{toml}:{share}: completion.attendance_share: Tỷ lệ tham dự phải là một số từ 0 đến 1"
    ) in out
    assert f"{toml}:{_line_of(toml, 'lessons =')}: completion.lessons: Yêu cầu đọc bài học" in out
    assert f"{toml}:{_line_of(toml, 'count_excused =')}: completion.count_excused:" in out
    assert f"{toml}:{_line_of(toml, 'min_score =')}: completion.min_score:" in out
    # read_meta keeps the defaults for what is invalid, never the invalid values.
    meta, problems = read_meta(toml)
    assert len(problems) == 4
    assert meta["completion"]["attendance_share"] == 0.8


def test_finding_6_authoring_form_refuses_invalid_values_in_vietnamese(client, login, trainer):
    module = services.by_slug("ky-nang-doi-ngoai")
    before = module.latest_version.number
    login(trainer)
    url = f"/manage/modules/{module.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Điều kiện hoàn thành" in page
    assert 'value="0,8"' in page
    data = {
        "csrf_token": csrf_token(client, url),
        "lessons": "some",
        "quiz": "y",
        "attendance_share": "1,5",
        "count_excused": "y",
        "late_weight": "nhanh",
    }
    response = client.post(f"{url}/completion", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Tỷ lệ tham dự phải là một số từ 0 đến 1 (ví dụ 0.8 là 80%)." in html
    assert "Hệ số đi muộn phải là một số từ 0 đến 1." in html
    assert "Yêu cầu đọc bài học chỉ nhận" in html
    assert module.latest_version.number == before  # nothing saved
    for value in ("nan", "inf", "-0,1", ""):
        data["attendance_share"], data["late_weight"], data["lessons"] = value, "1", "all"
        assert client.post(f"{url}/completion", data=data).status_code == 400, value
    data.update(attendance_share="0,5", late_weight="0.5", lessons="none")
    del data["quiz"]
    response = client.post(f"{url}/completion", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    rule = services.by_slug("ky-nang-doi-ngoai").latest_version.completion_rule()
    assert rule == CompletionRule(lessons="none", quiz=False, attendance_share=0.5, late_weight=0.5)
