"""Forms for sign-in, passwords and account administration."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from learnhub.accounts.models import ROLE_LABELS, SEX_LABELS, Role, Sex
from learnhub.forms import DateField, LearnHubForm, TextField, choices


class LoginForm(LearnHubForm):
    login = StringField(
        _l("Tên đăng nhập hoặc email"), validators=[DataRequired(), Length(max=254)]
    )
    # Paste and password managers are welcome (ASVS 6.2.7): no autocomplete=off.
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), Length(max=1024)])


class ReauthForm(LearnHubForm):
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), Length(max=1024)])


class ChangePasswordForm(LearnHubForm):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"), validators=[DataRequired(), Length(max=1024)]
    )

    def validate_confirm(self, field) -> None:
        # A ValidationError, not a ValueError: WTForms 3 turns only the former into a field error.
        if field.data != self.new.data:
            raise ValidationError("Hai lần nhập mật khẩu mới không khớp.")


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ROLE_CHOICES = choices([(r.value, ROLE_LABELS[r]) for r in Role])
SEX_CHOICES = choices([("", _l("— Chưa rõ —"))] + [(s.value, SEX_LABELS[s]) for s in Sex])


class UserForm(LearnHubForm):
    """Profile fields an admin edits; roles and passwords have their own forms."""

    full_name = TextField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    login = TextField(
        _l("Tên đăng nhập hoặc email"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("Chữ thường, không dấu, ví dụ nguyenvana hoặc a.nguyen@camau.gov.vn"),
    )
    email = TextField(
        _l("Email (nếu khác)"),
        validators=[Optional(), Regexp(EMAIL, message=_l("Email không hợp lệ.")), Length(max=254)],
    )
    birth_date = DateField(_l("Ngày sinh (dd/mm/yyyy)"), validators=[Optional()])
    sex = SelectField(
        _l("Giới tính"),
        choices=SEX_CHOICES,
        default="",
        validate_choice=True,
        description=_l("Giấy chứng nhận và giấy triệu tập ghi “Ông” hoặc “Bà” theo giới tính."),
    )
    position = TextField(_l("Chức vụ"), validators=[Optional(), Length(max=200)])
    rank = TextField(_l("Ngạch"), validators=[Optional(), Length(max=200)])
    unit = SelectField(_l("Đơn vị"), coerce=str, validate_choice=True)


HR_UNITS_HELP = _l(
    "Cán bộ tổ chức chỉ xem người của các đơn vị được chọn (kể cả đơn vị trực thuộc). Chọn "
    "“Mọi đơn vị (toàn tỉnh)” chỉ khi người này phụ trách cả tỉnh."
)


class NewUserForm(UserForm):
    roles = SelectMultipleField(_l("Vai trò"), choices=ROLE_CHOICES, default=["learner"])
    hr_units = SelectMultipleField(
        _l("Cán bộ tổ chức: các đơn vị được giao"), coerce=str, description=HR_UNITS_HELP
    )
    hr_every_unit = BooleanField(_l("Mọi đơn vị (toàn tỉnh)"))
    password = PasswordField(
        _l("Mật khẩu tạm thời"),
        validators=[DataRequired(), Length(max=1024)],
        description=_l("Người dùng phải đổi mật khẩu này ở lần đăng nhập đầu tiên."),
    )


class RolesForm(LearnHubForm):
    learner = BooleanField(_l("Học viên"))
    trainer = BooleanField(_l("Giảng viên"))
    trainer_unit = SelectField(_l("Giới hạn giảng viên trong đơn vị"), coerce=str)
    hr = BooleanField(_l("Cán bộ tổ chức"))
    hr_units = SelectMultipleField(
        _l("Cán bộ tổ chức: các đơn vị được giao"), coerce=str, description=HR_UNITS_HELP
    )
    hr_every_unit = BooleanField(_l("Mọi đơn vị (toàn tỉnh)"))
    admin = BooleanField(_l("Quản trị"))


class ResetPasswordForm(LearnHubForm):
    password = PasswordField(_l("Mật khẩu tạm thời"), validators=[DataRequired(), Length(max=1024)])


class ConfirmForm(LearnHubForm):
    """A form with nothing but its CSRF token: for POST-only actions."""


class RosterUploadForm(LearnHubForm):
    file = FileField(_l("Tệp danh sách (CSV hoặc XLSX)"))


class TwoFactorCodeForm(LearnHubForm):
    """A code from the authenticator app, or (at sign-in) a recovery code."""

    code = StringField(
        _l("Mã xác thực"),
        validators=[DataRequired(), Length(max=40)],
    )
