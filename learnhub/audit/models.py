"""Audit events."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.db import Base
from learnhub.timeutil import utcnow

if TYPE_CHECKING:  # audit sits below accounts: the mapper finds User by name
    from learnhub.accounts.models import User


class AuditEvent(Base):
    """One recorded change: actor, action, object, before and after, time and address."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: None for the system (command line without a user, automatic actions).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Dotted verb, e.g. "user.create", "user.roles", "unit.update", "auth.login_failed".
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(60), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str] = mapped_column(String(64), default="")
    #: How the change was made: "web", "cli", "import", …
    via: Mapped[str] = mapped_column(String(20), default="web")

    actor: Mapped["User | None"] = relationship()
