"""Forms for the question bank, quiz settings, essay grading and overrides."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from learnhub.forms import DateField, TextField, choices

REVIEW_CHOICES = choices(
    [("nothing", "Không cho xem"), ("score", "Chỉ điểm"), ("full", "Điểm, đáp án và phản hồi")]
)


class GiftUploadForm(FlaskForm):
    file = FileField("Tệp GIFT (Moodle)")


class QuestionForm(FlaskForm):
    gift = TextAreaField(
        "Câu hỏi (định dạng GIFT)", validators=[DataRequired(), Length(max=50_000)]
    )
    ignore_accents = BooleanField("Câu trả lời ngắn: chấp nhận cả khi gõ không dấu")


class SettingsForm(FlaskForm):
    title = TextField("Tên bài kiểm tra", validators=[DataRequired(), Length(max=300)])
    open_on = DateField("Mở từ ngày (dd/mm/yyyy)", validators=[Optional()])
    close_on = DateField("Đóng sau ngày (dd/mm/yyyy)", validators=[Optional()])
    time_limit_minutes = IntegerField(
        "Thời gian (phút, 0 = không giới hạn)", validators=[InputRequired(), NumberRange(0, 600)]
    )
    attempts_allowed = IntegerField(
        "Số lần làm (0 = không giới hạn)", validators=[InputRequired(), NumberRange(0, 100)]
    )
    grading = SelectField(
        "Cách tính điểm",
        choices=choices(
            [
                ("highest", "Lần cao nhất"),
                ("last", "Lần cuối"),
                ("average", "Trung bình các lần"),
                ("first", "Lần đầu"),
            ]
        ),
    )
    pass_mark = DecimalField(
        "Điểm đạt (thang 10)", places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    per_category = IntegerField(
        "Số câu ngẫu nhiên mỗi nhóm (0 = tất cả)",
        validators=[InputRequired(), NumberRange(0, 1000)],
    )
    shuffle_questions = BooleanField("Xáo trộn thứ tự câu hỏi")
    shuffle_choices = BooleanField("Xáo trộn thứ tự đáp án")
    review_after_submit = SelectField("Sau khi nộp, học viên được xem", choices=REVIEW_CHOICES)
    review_after_close = SelectField(
        "Sau khi bài kiểm tra đóng, học viên được xem", choices=REVIEW_CHOICES
    )


class EssayGradeForm(FlaskForm):
    mark = DecimalField(
        "Điểm (thang 10)", places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    comment = TextAreaField("Nhận xét", validators=[Optional(), Length(max=5000)])


class OverrideForm(FlaskForm):
    login = TextField(
        "Tên đăng nhập hoặc email của học viên", validators=[DataRequired(), Length(max=254)]
    )
    extra_minutes = IntegerField(
        "Thêm thời gian (phút)", default=0, validators=[InputRequired(), NumberRange(0, 600)]
    )
    extra_attempts = IntegerField(
        "Thêm số lần làm", default=0, validators=[InputRequired(), NumberRange(0, 20)]
    )
