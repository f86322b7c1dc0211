"""Time helpers: UTC storage, Vietnamese display (dd/mm/yyyy, UTC+07:00)."""

from datetime import UTC, date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def utcnow() -> datetime:
    """Now in UTC, as a naive datetime (how both backends store it)."""
    return datetime.now(UTC).replace(tzinfo=None)


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
    return date(int(year), int(month), int(day))


def today() -> date:
    """Today's date in the province."""
    return datetime.now(VN_TZ).date()
