"""Forms for sign-in, passwords and account administration."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from learnhub.accounts.models import ROLE_LABELS, Role
from learnhub.forms import DateField, TextField, choices


class LoginForm(FlaskForm):
    login = StringField("Tên đăng nhập hoặc email", validators=[DataRequired(), Length(max=254)])
    # Paste and password managers are welcome (ASVS 6.2.7): no autocomplete=off.
    password = PasswordField("Mật khẩu", validators=[DataRequired(), Length(max=1024)])


class ReauthForm(FlaskForm):
    password = PasswordField("Mật khẩu", validators=[DataRequired(), Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField("Mật khẩu mới", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[DataRequired(), Length(max=1024)])

    def validate_confirm(self, field) -> None:
        if field.data != self.new.data:
            raise ValueError("Hai lần nhập mật khẩu mới không khớp.")


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ROLE_CHOICES = choices([(r.value, ROLE_LABELS[r]) for r in Role])


class UserForm(FlaskForm):
    """Profile fields an admin edits; roles and passwords have their own forms."""

    full_name = TextField("Họ và tên", validators=[DataRequired(), Length(max=200)])
    login = TextField(
        "Tên đăng nhập hoặc email",
        validators=[DataRequired(), Length(max=254)],
        description="Chữ thường, không dấu, ví dụ nguyenvana hoặc a.nguyen@camau.gov.vn",
    )
    email = TextField(
        "Email (nếu khác)",
        validators=[Optional(), Regexp(EMAIL, message="Email không hợp lệ."), Length(max=254)],
    )
    birth_date = DateField("Ngày sinh (dd/mm/yyyy)", validators=[Optional()])
    position = TextField("Chức vụ", validators=[Optional(), Length(max=200)])
    rank = TextField("Ngạch", validators=[Optional(), Length(max=200)])
    unit = SelectField("Đơn vị", coerce=str, validate_choice=True)


class NewUserForm(UserForm):
    roles = SelectMultipleField("Vai trò", choices=ROLE_CHOICES, default=["learner"])
    password = PasswordField(
        "Mật khẩu tạm thời",
        validators=[DataRequired(), Length(max=1024)],
        description="Người dùng phải đổi mật khẩu này ở lần đăng nhập đầu tiên.",
    )


class RolesForm(FlaskForm):
    learner = BooleanField("Học viên")
    trainer = BooleanField("Giảng viên")
    trainer_unit = SelectField("Giới hạn giảng viên trong đơn vị", coerce=str)
    hr = BooleanField("Cán bộ tổ chức")
    hr_unit = SelectField("Giới hạn cán bộ tổ chức trong đơn vị", coerce=str)
    admin = BooleanField("Quản trị")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Mật khẩu tạm thời", validators=[DataRequired(), Length(max=1024)])


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: for POST-only actions."""


class RosterUploadForm(FlaskForm):
    file = FileField("Tệp danh sách (CSV hoặc XLSX)")
