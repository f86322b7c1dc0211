"""Shared form pieces: the base form (Vietnamese messages, NFC input), dates, times, numbers."""

import re
import unicodedata
from datetime import date, time
from decimal import Decimal, InvalidOperation

import flask_babel
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import DecimalField as _DecimalField
from wtforms import Field, FieldList, FormField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from learnhub import security
from learnhub.i18n import format_number
from learnhub.textutil import clean_text
from learnhub.timeutil import parse_date


def _nfc(value: object) -> object:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


class _CatalogueTranslations:
    """WTForms' English messages through the app's catalogue for the current language.

    WTForms ships no Vietnamese catalogue; learnhub/translations/vi/LC_MESSAGES/messages.po
    holds the Vietnamese of its messages, so one catalogue serves the app and its libraries.
    """

    def gettext(self, string: str) -> str:
        return flask_babel.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # Not flask_babel.ngettext: it would %-format with num only, before WTForms adds min/max.
        return flask_babel.get_translations().ungettext(singular, plural, n)


class _SessionCSRF(_FlaskFormCSRF):
    """Flask-WTF's CSRF of a form, its token the session's, signed once (security.csrf_token):
    every form and page of a session writes the same token, checked as Flask-WTF checks it."""

    def generate_csrf_token(self, csrf_token_field) -> str:
        return security.csrf_token()


class LearnHubForm(FlaskForm):
    """The base of every form: messages in the reader's language, every text value NFC.

    Typed text arrives in NFC or NFD (Unikey, macOS); both must compare, store and search the
    same, so every field's value is normalised before any validator sees it.
    """

    class Meta:
        csrf_class = _SessionCSRF

        def get_translations(self, form):
            return _CatalogueTranslations()

        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (FieldList, FormField)):
                # Enclosures take no filters; the fields they hold are normalised where they
                # are read (the question editor's rows go through quizzes.editor).
                return unbound_field.bind(form=form, **options)
            filters = [*unbound_field.kwargs.get("filters", ()), _nfc]
            return unbound_field.bind(form=form, filters=filters, **options)


class TextField(StringField):
    """A single-line text field that stores NFC without control characters."""

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = clean_text(self.data)


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


_TIME = re.compile(r"^\s*(\d{1,2})\s*[:hH.]\s*(\d{2})\s*$")


class TimeField(Field):
    """A time of day typed as hh:mm (07:30, 7h30), checked here: never Python's own message."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""

    def process_formdata(self, valuelist: list) -> None:
        self.data: time | None = None
        if valuelist and valuelist[0].strip():
            found = _TIME.match(valuelist[0])
            hours, minutes = (int(found[1]), int(found[2])) if found else (-1, -1)
            if not (0 <= hours <= 23 and 0 <= minutes <= 59):
                raise ValueError(
                    str(_l("Giờ không hợp lệ: hãy nhập theo dạng hh:mm, ví dụ 07:30."))
                )
            self.data = time(hours, minutes)


class DecimalField(_DecimalField):
    """A number that accepts the decimal comma ("8,5") as Vietnamese writes it."""

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip().replace(" ", "").replace(",", ".")
        try:
            self.data = Decimal(text)
            if not self.data.is_finite():
                raise InvalidOperation(text)
        except InvalidOperation as exc:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value.")) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_number(self.data)


def choices(pairs: list[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as the choice objects WTForms wants."""
    return [SelectChoice(value, label) for value, label in pairs]
