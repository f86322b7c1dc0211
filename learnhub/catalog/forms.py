"""Forms for authoring modules and lessons in the browser."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from learnhub.catalog.models import CATEGORY_LABELS
from learnhub.forms import TextField, choices

SLUG_RULE = Regexp(
    r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", message=_l("Chỉ dùng a-z, 0-9 và dấu gạch ngang.")
)


def refs_list(text: str | None) -> list[str]:
    """One legal reference per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ModuleForm(FlaskForm):
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


class LessonForm(FlaskForm):
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


class AssetForm(FlaskForm):
    file = FileField(_l("Ảnh (PNG, JPEG, GIF, WebP) hoặc PDF, tối đa 5 MB"))
