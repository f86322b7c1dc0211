"""Forms for opening classes, scheduling sessions and building rosters."""

from datetime import time

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from learnhub.classes.models import FORMAT_LABELS
from learnhub.forms import DateField, LearnHubForm, TextField, TimeField, choices


class ClassForm(LearnHubForm):
    module = SelectField(_l("Chuyên đề"), coerce=str)
    code = TextField(
        _l("Mã lớp"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Chỉ dùng chữ không dấu, số, . _ -")),
        ],
    )
    title = TextField(_l("Tên lớp"), validators=[DataRequired(), Length(max=300)])
    starts_on = DateField(_l("Từ ngày (dd/mm/yyyy)"), validators=[InputRequired()])
    ends_on = DateField(_l("Đến ngày (dd/mm/yyyy)"), validators=[InputRequired()])
    place = TextField(_l("Địa điểm"), validators=[Optional(), Length(max=300)])
    format = SelectField(
        _l("Hình thức"), choices=choices([(k.value, v) for k, v in FORMAT_LABELS.items()])
    )
    organisers = TextField(_l("Đơn vị tổ chức"), validators=[Optional(), Length(max=500)])
    decision_no = TextField(_l("Quyết định mở lớp (số)"), validators=[Optional(), Length(max=100)])
    decision_on = DateField(_l("Ngày quyết định"), validators=[Optional()])
    capacity = IntegerField(
        _l("Sĩ số tối đa (0 = không giới hạn)"),
        default=0,
        validators=[InputRequired(), NumberRange(0, 5000)],
    )


class SessionsForm(LearnHubForm):
    first = DateField(_l("Buổi đầu tiên (dd/mm/yyyy)"), validators=[InputRequired()])
    count = IntegerField(
        _l("Số buổi"), default=1, validators=[InputRequired(), NumberRange(1, 100)]
    )
    every_days = IntegerField(
        _l("Cách nhau (ngày)"), default=1, validators=[InputRequired(), NumberRange(1, 30)]
    )
    starts_at = TimeField(
        _l("Giờ bắt đầu (hh:mm)"), default=time(7, 30), validators=[InputRequired()]
    )
    ends_at = TimeField(
        _l("Giờ kết thúc (hh:mm)"), default=time(11, 0), validators=[InputRequired()]
    )
    periods = IntegerField(
        _l("Số tiết mỗi buổi"), default=4, validators=[InputRequired(), NumberRange(1, 12)]
    )


class EnrolForm(LearnHubForm):
    logins = TextAreaField(
        _l("Tên đăng nhập hoặc email (mỗi dòng một người)"),
        description=_l("Hoặc 'Họ và tên; ngày sinh' (dd/mm/yyyy). Chỉ ghi danh tài khoản đã có."),
        validators=[DataRequired(), Length(max=100_000)],
    )


class EnrolUnitForm(LearnHubForm):
    unit = SelectField(_l("Đơn vị (kể cả các đơn vị trực thuộc)"), coerce=str)


class CodeForm(LearnHubForm):
    code = TextField(
        _l("Mã điểm danh (6 chữ số)"), validators=[DataRequired(), Regexp(r"^\s*[0-9]{6}\s*$")]
    )


class ClassEditForm(LearnHubForm):
    title = TextField(_l("Tên lớp"), validators=[DataRequired(), Length(max=300)])
    place = TextField(_l("Địa điểm"), validators=[Optional(), Length(max=300)])
    organisers = TextField(_l("Đơn vị tổ chức"), validators=[Optional(), Length(max=500)])
    capacity = IntegerField(
        _l("Sĩ số tối đa (0 = không giới hạn)"), validators=[InputRequired(), NumberRange(0, 5000)]
    )
    status = SelectField(
        _l("Trạng thái"),
        choices=choices(
            [("planned", _l("Dự kiến")), ("open", _l("Đang học")), ("closed", _l("Đã kết thúc"))]
        ),
    )


class SessionEditForm(LearnHubForm):
    on = DateField(_l("Ngày (dd/mm/yyyy)"), validators=[InputRequired()])
    starts_at = TimeField(_l("Giờ bắt đầu (hh:mm)"), validators=[InputRequired()])
    ends_at = TimeField(_l("Giờ kết thúc (hh:mm)"), validators=[InputRequired()])
    periods = IntegerField(_l("Số tiết"), validators=[InputRequired(), NumberRange(1, 12)])
    topic = TextField(_l("Nội dung"), validators=[Optional(), Length(max=500)])


class ConfirmForm(LearnHubForm):
    """A confirmation step: only the CSRF token and the button."""


MARKS = choices(
    [
        ("5", _l("5 - Rất tốt")),
        ("4", _l("4 - Tốt")),
        ("3", _l("3 - Đạt")),
        ("2", _l("2 - Chưa tốt")),
        ("1", _l("1 - Kém")),
    ]
)


class FeedbackForm(LearnHubForm):
    """Phiếu đánh giá khóa học: three marks from 1 to 5 and a comment."""

    content = RadioField(_l("Nội dung chương trình"), choices=MARKS, validators=[InputRequired()])
    trainers = RadioField(_l("Giảng viên"), choices=MARKS, validators=[InputRequired()])
    organisation = RadioField(
        _l("Công tác tổ chức lớp"), choices=MARKS, validators=[InputRequired()]
    )
    comment = TextAreaField(_l("Góp ý (không bắt buộc)"), validators=[Optional(), Length(max=2000)])
