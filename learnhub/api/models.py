"""Personal API tokens: only a SHA-256 digest and a short display prefix are stored."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.accounts.models import User
from learnhub.db import Base
from learnhub.timeutil import utcnow


class ApiToken(Base):
    """A bearer token that acts as its owner (scoped like the owner) on /api/v1."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: What the owner calls it ("Phần mềm quản lý cán bộ").
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the token, shown so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the whole token, hex: tokens carry 256 random bits, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The last day (in the province) the token works; None: until revoked.
    expires_on: Mapped[date | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def is_expired(self, on: date) -> bool:
        return self.expires_on is not None and on > self.expires_on

    def state(self, on: date) -> str:
        """active, expired or revoked, on a given day."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(on) else "active"

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}…>"
