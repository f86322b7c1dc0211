"""Forms for authoring modules and lessons in the browser."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from learnhub.catalog.models import CATEGORY_LABELS
from learnhub.content import completion
from learnhub.content.completion import CompletionRule
from learnhub.forms import LearnHubForm, TextField, choices
from learnhub.i18n import format_number

SLUG_RULE = Regexp(
    r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", message=_l("Chỉ dùng a-z, 0-9 và dấu gạch ngang.")
)


def refs_list(text: str | None) -> list[str]:
    """One legal reference per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ModuleForm(LearnHubForm):
    title = TextField(_l("Tên chuyên đề"), validators=[DataRequired(), Length(max=300)])
    category = SelectField(
        _l("Nhóm"), choices=choices([(c.value, label) for c, label in CATEGORY_LABELS.items()])
    )
    summary = TextAreaField(_l("Tóm tắt"), validators=[DataRequired(), Length(max=3000)])
    periods = IntegerField(_l("Số tiết"), validators=[DataRequired(), NumberRange(1, 500)])
    legal_refs = TextAreaField(
        _l("Căn cứ pháp lý (mỗi dòng một văn bản)"), validators=[Optional(), Length(max=3000)]
    )


class NewModuleForm(ModuleForm):
    slug = TextField(
        _l("Mã chuyên đề (dùng trong địa chỉ)"),
        validators=[DataRequired(), Length(min=2, max=100), SLUG_RULE],
        description=_l("Ví dụ: quan-ly-vien-tro"),
    )


class LessonForm(LearnHubForm):
    title = TextField(_l("Tiêu đề bài học"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        _l("Nội dung (Markdown)"), validators=[DataRequired(), Length(max=200_000)]
    )
    legal_refs = TextAreaField(
        _l("Căn cứ pháp lý (mỗi dòng một trích dẫn, ví dụ: Nghị định 58/2022/NĐ-CP, Điều 5)"),
        validators=[Optional(), Length(max=3000)],
    )


class NewLessonForm(LessonForm):
    slug = TextField(
        _l("Mã bài học"),
        validators=[DataRequired(), Length(min=2, max=100), SLUG_RULE],
        description=_l("Ví dụ: co-so-phap-ly"),
    )


class AssetForm(LearnHubForm):
    file = FileField(
        _l("Ảnh (PNG, JPEG, GIF, WebP) hoặc PDF, tối đa 5 MB"),
        description=_l("Ảnh lớn hơn 5 MB được tự thu nhỏ khi tải lên."),
    )


def _number(text: str | None) -> object:
    """A number typed with a decimal point or comma; the text itself when it is not one (the
    rule's parser then says what is wrong)."""
    try:
        return float((text or "").strip().replace(",", "."))
    except ValueError:
        return text


class CompletionRuleForm(LearnHubForm):
    """The module's completion rule ([completion] of module.toml), checked by content.completion."""

    lessons = SelectField(
        _l("Bài học"),
        choices=choices([("all", _l("Phải đọc hết các bài học")), ("none", _l("Không bắt buộc"))]),
        validate_choice=False,  # completion.parse says what is wrong, in Vietnamese
    )
    quiz = BooleanField(_l("Phải đạt bài kiểm tra"))
    essay = BooleanField(_l("Bài thu hoạch phải đạt từ 5,0 điểm"))
    attendance_share = TextField(
        _l("Tỷ lệ số tiết phải tham dự"),
        description=_l("Từ 0 đến 1, ví dụ 0,8 là 80%; 0: không yêu cầu."),
    )
    count_excused = BooleanField(_l("Vắng có phép được tính là có mặt"))
    late_weight = TextField(
        _l("Hệ số tính tiết khi đi muộn"),
        description=_l("Từ 0 đến 1: 1 là tính đủ số tiết của buổi, 0,5 là một nửa."),
    )

    @classmethod
    def of(cls, rule: CompletionRule) -> "CompletionRuleForm":
        data = rule.as_dict()
        for key in ("attendance_share", "late_weight"):
            data[key] = format_number(data[key], at_most=4)
        return cls(formdata=None, data=data)

    def rule(self) -> tuple[CompletionRule, dict[str, str]]:
        """The rule the form describes and a message per invalid field."""
        return completion.parse(
            {
                "lessons": self.lessons.data,
                "quiz": bool(self.quiz.data),
                "essay": bool(self.essay.data),
                "attendance_share": _number(self.attendance_share.data),
                "count_excused": bool(self.count_excused.data),
                "late_weight": _number(self.late_weight.data),
            }
        )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        _rule, errors = self.rule()
        for key, message in errors.items():
            field = getattr(self, key)
            field.errors = [*field.errors, message]
        return valid and not errors
