"""Forms for the question bank, quiz settings, essay grading and overrides."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from learnhub.forms import DateField, DecimalField, LearnHubForm, TextField, choices

REVIEW_CHOICES = choices(
    [
        ("nothing", _l("Không cho xem")),
        ("score", _l("Chỉ điểm")),
        ("full", _l("Điểm, đáp án và phản hồi")),
    ]
)


class GiftUploadForm(LearnHubForm):
    file = FileField(_l("Tệp GIFT (Moodle)"))


class QuestionForm(LearnHubForm):
    gift = TextAreaField(
        _l("Câu hỏi (định dạng GIFT)"), validators=[DataRequired(), Length(max=50_000)]
    )
    ignore_accents = BooleanField(_l("Câu trả lời ngắn: chấp nhận cả khi gõ không dấu"))


class SettingsForm(LearnHubForm):
    title = TextField(_l("Tên bài kiểm tra"), validators=[DataRequired(), Length(max=300)])
    open_on = DateField(_l("Mở từ ngày (dd/mm/yyyy)"), validators=[Optional()])
    close_on = DateField(_l("Đóng sau ngày (dd/mm/yyyy)"), validators=[Optional()])
    time_limit_minutes = IntegerField(
        _l("Thời gian (phút, 0 = không giới hạn)"),
        validators=[InputRequired(), NumberRange(0, 600)],
    )
    attempts_allowed = IntegerField(
        _l("Số lần làm (0 = không giới hạn)"), validators=[InputRequired(), NumberRange(0, 100)]
    )
    grading = SelectField(
        _l("Cách tính điểm"),
        choices=choices(
            [
                ("highest", _l("Lần cao nhất")),
                ("last", _l("Lần cuối")),
                ("average", _l("Trung bình các lần")),
                ("first", _l("Lần đầu")),
            ]
        ),
    )
    pass_mark = DecimalField(
        _l("Điểm đạt (thang 10)"), places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    per_category = IntegerField(
        _l("Số câu ngẫu nhiên mỗi nhóm (0 = tất cả)"),
        validators=[InputRequired(), NumberRange(0, 1000)],
    )
    shuffle_questions = BooleanField(_l("Xáo trộn thứ tự câu hỏi"))
    shuffle_choices = BooleanField(_l("Xáo trộn thứ tự đáp án"))
    review_after_submit = SelectField(_l("Sau khi nộp, học viên được xem"), choices=REVIEW_CHOICES)
    review_after_close = SelectField(
        _l("Sau khi bài kiểm tra đóng, học viên được xem"), choices=REVIEW_CHOICES
    )

    def validate_close_on(self, field) -> None:
        """The date rule of a quiz window: it closes on or after the day it opens."""
        if field.data and self.open_on.data and field.data < self.open_on.data:
            raise ValidationError(_l("Ngày đóng bài kiểm tra không được trước ngày mở."))


class EssayGradeForm(LearnHubForm):
    mark = DecimalField(
        _l("Điểm (thang 10)"), places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    comment = TextAreaField(_l("Nhận xét"), validators=[Optional(), Length(max=5000)])


class OverrideForm(LearnHubForm):
    login = TextField(
        _l("Tên đăng nhập hoặc email của học viên"), validators=[DataRequired(), Length(max=254)]
    )
    extra_minutes = IntegerField(
        _l("Thêm thời gian (phút)"), default=0, validators=[InputRequired(), NumberRange(0, 600)]
    )
    extra_attempts = IntegerField(
        _l("Thêm số lần làm"), default=0, validators=[InputRequired(), NumberRange(0, 20)]
    )
