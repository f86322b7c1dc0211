"""Time helpers: UTC storage, Vietnamese display (dd/mm/yyyy, UTC+07:00)."""

from datetime import UTC, date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def _now() -> datetime:
    """The present moment (aware, UTC): the one place the app reads the calendar, through
    utcnow() and today(). The tests freeze it here (tests/support.py::freeze_clock)."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """Now in UTC, as a naive datetime (how both backends store it)."""
    return _now().replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) datetime in the province's time zone."""
    return value.replace(tzinfo=UTC).astimezone(VN_TZ)


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def parse_date(text: str) -> date:
    """Parse dd/mm/yyyy (also d/m/yyyy and yyyy-mm-dd); ValueError otherwise."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-":
        return date.fromisoformat(text)
    day, month, year = text.replace("-", "/").replace(".", "/").split("/")
    if len(year) != 4:
        raise ValueError(text)
    try:
        return date(int(year), int(month), int(day))
    except OverflowError:  # a day or month beyond a C int ("99999999999/1/2026")
        raise ValueError(text) from None


def today() -> date:
    """Today's date in the province."""
    return _now().astimezone(VN_TZ).date()


def place_date(place: str, day: date) -> str:
    """The place-and-date line of Nghị định 30/2020: "Cà Mau, ngày 05 tháng 01 năm 2026".

    Days below 10 and the months 1 and 2 take a leading zero.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"
