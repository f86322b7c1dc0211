"""Shared form pieces: the date field in dd/mm/yyyy, and NFC text fields."""

import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from learnhub.timeutil import parse_date


def _clean(value: str) -> str:
    # NUL and other control characters never belong in a form value.
    value = "".join(ch for ch in value if ch in "\n\t" or ord(ch) >= 32)
    return unicodedata.normalize("NFC", value).strip()


class TextField(StringField):
    """A single-line text field that stores NFC without control characters."""

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = _clean(self.data)


#: The years a date typed in a form may fall in. Earlier or later dates are typing errors, and
#: date arithmetic on them would overflow (a series of sessions from 31/12/9999, the start of
#: 01/01/0001 in UTC).
YEARS = range(1900, 3000)


class DateField(Field):
    """A date typed as dd/mm/yyyy (a text input, so every phone keyboard works), in YEARS."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    def process_formdata(self, valuelist: list) -> None:
        self.data: date | None = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_date(valuelist[0])
                if self.data.year not in YEARS:
                    raise ValueError(valuelist[0])
            except ValueError as exc:
                self.data = None
                message = _l("Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy.")
                raise ValueError(str(message)) from exc


def choices(pairs: list[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as the choice objects WTForms wants."""
    return [SelectChoice(value, label) for value, label in pairs]
