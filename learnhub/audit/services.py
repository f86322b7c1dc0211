"""Recording audit events."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from learnhub import db
from learnhub.audit.models import AuditEvent

if TYPE_CHECKING:  # audit sits below accounts: it names the user type, never imports it
    from learnhub.accounts.models import User


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: passed explicitly so services stay request-free."""

    user: "User | None"
    ip: str = ""
    via: str = "web"

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


SYSTEM = Actor(None, via="cli")


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date | datetime):
            value = value.isoformat()
        elif isinstance(value, set | frozenset | tuple):
            value = sorted(str(v) for v in value)
        out[key] = value
    return out


def record(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current unit of work."""
    event = AuditEvent(
        actor_id=actor.user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_plain(before),
        after=_plain(after),
        ip=actor.ip,
        via=actor.via,
    )
    db.session.add(event)
    return event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
