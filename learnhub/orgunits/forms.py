"""The unit edit form."""

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from learnhub.forms import DateField, TextField, choices
from learnhub.orgunits.models import KIND_LABELS


class UnitForm(FlaskForm):
    code = TextField(
        "Mã đơn vị",
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Z0-9-]+$", message="Chỉ dùng A-Z, 0-9 và dấu gạch ngang."),
        ],
    )
    name = TextField("Tên đơn vị", validators=[DataRequired(), Length(max=255)])
    kind = SelectField(
        "Loại", choices=choices([(k.value, label) for k, label in KIND_LABELS.items()])
    )
    parent = SelectField("Đơn vị cấp trên", coerce=str)
    valid_from = DateField("Hiệu lực từ ngày", validators=[Optional()])
    valid_to = DateField("Hết hiệu lực từ sau ngày", validators=[Optional()])
    successor = SelectField("Đơn vị kế thừa (khi sáp nhập, giải thể)", coerce=str)
    note = TextAreaField("Ghi chú", validators=[Optional(), Length(max=1000)])
