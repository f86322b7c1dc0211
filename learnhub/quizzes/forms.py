"""Forms for the question bank, quiz settings, essay grading and overrides."""

from dataclasses import asdict

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from learnhub.forms import DateField, DecimalField, LearnHubForm, TextField, choices
from learnhub.quizzes import editor

REVIEW_CHOICES = choices(
    [
        ("nothing", _l("Không cho xem")),
        ("score", _l("Chỉ điểm")),
        ("full", _l("Điểm, đáp án và phản hồi")),
    ]
)


class GiftUploadForm(LearnHubForm):
    file = FileField(_l("Tệp GIFT hoặc Moodle XML (.gift, .txt, .xml)"))


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


class AnswerRowForm(Form):
    """One row of the editor: a choice, an accepted answer or a number (no CSRF of its own)."""

    text = TextField(_l("Phương án"), validators=[Length(max=5000)])
    weight = TextField(_l("Điểm (%)"), validators=[Length(max=20)])
    feedback = TextField(_l("Phản hồi khi chọn phương án này"), validators=[Length(max=5000)])
    tolerance = TextField(_l("Sai số cho phép (±)"), validators=[Length(max=40)])
    low = TextField(_l("hoặc khoảng: từ"), validators=[Length(max=40)])
    high = TextField(_l("đến"), validators=[Length(max=40)])


class PairRowForm(Form):
    left = TextField(_l("Vế trái (để trống: phương án gây nhiễu)"), validators=[Length(max=5000)])
    right = TextField(_l("Vế phải"), validators=[Length(max=5000)])


class QuestionEditorForm(LearnHubForm):
    """The question editor: every type in one form; the kind decides which parts are shown."""

    kind = HiddenField()
    text = TextAreaField(_l("Nội dung câu hỏi"), validators=[Length(max=20_000)])
    answers = FieldList(FormField(AnswerRowForm), max_entries=editor.MAX_ROWS)
    pairs = FieldList(FormField(PairRowForm), max_entries=editor.MAX_ROWS)
    truth = RadioField(
        _l("Đáp án đúng"),
        choices=choices([("true", _l("Đúng")), ("false", _l("Sai"))]),
        validate_choice=False,
    )
    feedback_right = TextField(_l("Phản hồi khi trả lời đúng"), validators=[Length(max=5000)])
    feedback_wrong = TextField(_l("Phản hồi khi trả lời sai"), validators=[Length(max=5000)])
    feedback_other = TextField(
        _l("Phản hồi cho mọi số khác (không bắt buộc)"), validators=[Length(max=5000)]
    )
    general_feedback = TextAreaField(
        _l("Phản hồi chung (học viên thấy khi xem lại bài)"), validators=[Length(max=20_000)]
    )
    category = TextField(_l("Nhóm câu hỏi"), validators=[Length(max=200)])
    name = TextField(_l("Tên ngắn (để trống: lấy đầu câu hỏi)"), validators=[Length(max=300)])
    refs = TextAreaField(_l("Căn cứ pháp lý (mỗi dòng một văn bản)"), validators=[Length(max=5000)])
    ignore_accents = BooleanField(_l("Chấp nhận cả câu trả lời gõ không dấu"))

    @classmethod
    def of(cls, draft: editor.Draft, ignore_accents: bool) -> "QuestionEditorForm":
        data = asdict(draft)
        return cls(formdata=None, data={**data, "ignore_accents": ignore_accents})

    def draft(self) -> editor.Draft:
        return editor.Draft(
            kind=self.kind.data or "",
            text=self.text.data or "",
            name=self.name.data or "",
            category=self.category.data or "",
            general_feedback=self.general_feedback.data or "",
            refs=self.refs.data or "",
            answers=[editor.AnswerRow(**_strings(row.data)) for row in self.answers],
            pairs=[editor.PairRow(**_strings(row.data)) for row in self.pairs],
            truth=self.truth.data or "",
            feedback_right=self.feedback_right.data or "",
            feedback_wrong=self.feedback_wrong.data or "",
            feedback_other=self.feedback_other.data or "",
        )

    def add_row(self) -> None:
        """One more empty answer row (or pair), up to the limit: the "Thêm đáp án" button."""
        rows = self.pairs if self.kind.data == "matching" else self.answers
        if len(rows) < editor.MAX_ROWS:
            rows.append_entry()


def _strings(data: dict) -> dict[str, str]:
    return {k: v or "" for k, v in data.items() if k != "csrf_token"}
