"""The audit log page (admins), filterable by actor, action, object and date."""

import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select

from learnhub.accounts.auth import role_required
from learnhub.accounts.models import Role
from learnhub.audit.models import AuditEvent
from learnhub.pagination import Page
from learnhub.timeutil import VN_TZ, parse_date

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def _day_start_utc(text: str) -> datetime | None:
    try:
        day = parse_date(text)
        local = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
        return local.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: 01/01/0001 is before UTC's year 1
        return None


@bp.get("/")
@role_required(Role.admin)
def index():
    args = request.args
    stmt = select(AuditEvent)
    filters = {
        k: args.get(k, "")[:100]
        for k in ("action", "object_type", "object_id", "actor", "from", "to")
    }
    if filters["action"]:
        stmt = stmt.where(AuditEvent.action.startswith(filters["action"], autoescape=True))
    if filters["object_type"]:
        stmt = stmt.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEvent.object_id == filters["object_id"])
    if re.fullmatch(r"[0-9]{1,9}", filters["actor"]):
        stmt = stmt.where(AuditEvent.actor_id == int(filters["actor"]))
    start = _day_start_utc(filters["from"]) if filters["from"] else None
    end = _day_start_utc(filters["to"]) if filters["to"] else None
    if start:
        stmt = stmt.where(AuditEvent.at >= start)
    if end:
        stmt = stmt.where(AuditEvent.at < end + timedelta(days=1))
    page = Page.of(stmt.order_by(AuditEvent.id.desc()), args)
    return render_template("audit/index.html", page=page, filters=filters)
