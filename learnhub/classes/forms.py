"""Forms for opening classes, scheduling sessions and building rosters."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from learnhub.classes.models import FORMAT_LABELS
from learnhub.forms import DateField, TextField, choices


class ClassForm(FlaskForm):
    module = SelectField("Chuyên đề", coerce=str)
    code = TextField(
        "Mã lớp",
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9._-]+$", message="Chỉ dùng chữ không dấu, số, . _ -"),
        ],
    )
    title = TextField("Tên lớp", validators=[DataRequired(), Length(max=300)])
    starts_on = DateField("Từ ngày (dd/mm/yyyy)", validators=[InputRequired()])
    ends_on = DateField("Đến ngày (dd/mm/yyyy)", validators=[InputRequired()])
    place = TextField("Địa điểm", validators=[Optional(), Length(max=300)])
    format = SelectField(
        "Hình thức", choices=choices([(k.value, v) for k, v in FORMAT_LABELS.items()])
    )
    organisers = TextField("Đơn vị tổ chức", validators=[Optional(), Length(max=500)])
    decision_no = TextField("Quyết định mở lớp (số)", validators=[Optional(), Length(max=100)])
    decision_on = DateField("Ngày quyết định", validators=[Optional()])
    capacity = IntegerField(
        "Sĩ số tối đa (0 = không giới hạn)",
        default=0,
        validators=[InputRequired(), NumberRange(0, 5000)],
    )


class SessionsForm(FlaskForm):
    first = DateField("Buổi đầu tiên (dd/mm/yyyy)", validators=[InputRequired()])
    count = IntegerField("Số buổi", default=1, validators=[InputRequired(), NumberRange(1, 100)])
    every_days = IntegerField(
        "Cách nhau (ngày)", default=1, validators=[InputRequired(), NumberRange(1, 30)]
    )
    starts_at = TextField(
        "Giờ bắt đầu (hh:mm)",
        default="07:30",
        validators=[DataRequired(), Regexp(r"^\d{1,2}:\d{2}$")],
    )
    ends_at = TextField(
        "Giờ kết thúc (hh:mm)",
        default="11:00",
        validators=[DataRequired(), Regexp(r"^\d{1,2}:\d{2}$")],
    )
    periods = IntegerField(
        "Số tiết mỗi buổi", default=4, validators=[InputRequired(), NumberRange(1, 12)]
    )


class EnrolForm(FlaskForm):
    logins = TextAreaField(
        "Tên đăng nhập hoặc email (mỗi dòng một người)",
        validators=[DataRequired(), Length(max=100_000)],
    )


class EnrolUnitForm(FlaskForm):
    unit = SelectField("Đơn vị (kể cả các đơn vị trực thuộc)", coerce=str)


class CodeForm(FlaskForm):
    code = TextField(
        "Mã điểm danh (6 chữ số)", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$")]
    )


class ClassEditForm(FlaskForm):
    title = TextField("Tên lớp", validators=[DataRequired(), Length(max=300)])
    place = TextField("Địa điểm", validators=[Optional(), Length(max=300)])
    organisers = TextField("Đơn vị tổ chức", validators=[Optional(), Length(max=500)])
    capacity = IntegerField(
        "Sĩ số tối đa (0 = không giới hạn)", validators=[InputRequired(), NumberRange(0, 5000)]
    )
    status = SelectField(
        "Trạng thái",
        choices=choices([("planned", "Dự kiến"), ("open", "Đang học"), ("closed", "Đã kết thúc")]),
    )
