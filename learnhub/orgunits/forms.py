"""The unit edit form."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from learnhub.forms import DateField, LearnHubForm, TextField, choices
from learnhub.orgunits.models import KIND_LABELS


class UnitForm(LearnHubForm):
    code = TextField(
        _l("Mã đơn vị"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Z0-9-]+$", message=_l("Chỉ dùng A-Z, 0-9 và dấu gạch ngang.")),
        ],
    )
    name = TextField(_l("Tên đơn vị"), validators=[DataRequired(), Length(max=255)])
    kind = SelectField(
        _l("Loại"), choices=choices([(k.value, label) for k, label in KIND_LABELS.items()])
    )
    parent = SelectField(_l("Đơn vị cấp trên"), coerce=str)
    valid_from = DateField(_l("Hiệu lực từ ngày"), validators=[Optional()])
    valid_to = DateField(_l("Hết hiệu lực từ sau ngày"), validators=[Optional()])
    successor = SelectField(_l("Đơn vị kế thừa (khi sáp nhập, giải thể)"), coerce=str)
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=1000)])
