"""The audit log page (admins): who did what, in words, filterable by person, group and date."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from learnhub.accounts.auth import role_required
from learnhub.accounts.models import Role
from learnhub.audit import describe
from learnhub.audit.models import AuditEvent
from learnhub.pagination import Page
from learnhub.timeutil import VN_TZ, parse_date

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

FILTERS = ("person", "group", "from", "to", "object_type", "object_id")


def _day_start_utc(text: str) -> datetime | None:
    try:
        day = parse_date(text)
        local = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
        return local.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: 01/01/0001 is before UTC's year 1
        return None


def _filtered(filters: dict[str, str]) -> tuple[object, list[str]]:
    """The events the filters ask for, newest first, and what was wrong with them."""
    stmt, errors = select(AuditEvent), []
    if filters["person"].strip():
        stmt = stmt.where(describe.person_filter(filters["person"].strip()))
    if filters["group"] in describe.GROUPS:
        stmt = stmt.where(AuditEvent.action.in_(describe.group_codes(filters["group"])))
    # An object's history (links from other pages): its type and id as recorded.
    if filters["object_type"]:
        stmt = stmt.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEvent.object_id == filters["object_id"])
    for key, label, shift in (("from", _("Từ ngày"), 0), ("to", _("Đến ngày"), 1)):
        if not filters[key].strip():
            continue
        start = _day_start_utc(filters[key])
        if start is None:
            errors.append(_("%(what)s phải có dạng dd/mm/yyyy.", what=label))
        elif shift:
            stmt = stmt.where(AuditEvent.at < start + timedelta(days=1))
        else:
            stmt = stmt.where(AuditEvent.at >= start)
    return stmt.order_by(AuditEvent.id.desc()), errors


@bp.get("/")
@role_required(Role.admin)
def index():
    filters = {k: request.args.get(k, "")[:100] for k in FILTERS}
    stmt, errors = _filtered(filters)
    page = Page.of(stmt, request.args)
    names = describe.load_names(page.items)
    rows = [
        (event, describe.sentence(event, names), describe.changes(event, names))
        for event in page.items
    ]
    return render_template(
        "audit/index.html",
        page=page,
        rows=rows,
        names=names,
        filters=filters,
        errors=errors,
        groups=describe.GROUPS,
        VIA_LABELS=describe.VIA_LABELS,
    )
