"""Users, their roles (optionally limited to a unit subtree) and sign-in throttling."""

import enum
import re
import unicodedata
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from learnhub.db import Base, enum_check
from learnhub.orgunits.models import OrgUnit
from learnhub.textutil import fold, name_sort_string, vn_sort_key
from learnhub.timeutil import utcnow


class Role(enum.StrEnum):
    learner = "learner"
    trainer = "trainer"
    hr = "hr"
    admin = "admin"


ROLE_LABELS = {
    Role.learner: _l("Học viên"),
    Role.trainer: _l("Giảng viên"),
    Role.hr: _l("Cán bộ tổ chức"),
    Role.admin: _l("Quản trị"),
}


class Sex(enum.StrEnum):
    """Giới tính as the register and the documents print it; unknown is NULL."""

    male = "nam"
    female = "nu"


SEX_LABELS = {Sex.male: _l("Nam"), Sex.female: _l("Nữ")}
#: How a document addresses the person: "Ông", "Bà", or "Ông/Bà" when the sex is unknown.
SALUTATIONS = {Sex.male: "Ông", Sex.female: "Bà"}


def salutation(sex: str | None) -> str:
    """ "Ông" / "Bà" by sex; "Ông/Bà" when it is not recorded (or not a known value)."""
    return SALUTATIONS.get(sex, "Ông/Bà") if sex else "Ông/Bà"


def sex_label(sex: str | None) -> str:
    """ "Nam" / "Nữ" for a register column; "" when unknown."""
    return str(SEX_LABELS[Sex(sex)]) if sex in set(Sex) else ""


#: A login name: lower-case ASCII letters, digits and . _ - ("Chữ thường, không dấu").
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")


def nfc(text: str) -> str:
    """Unicode NFC with surrounding whitespace removed and inner runs collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class User(UserMixin, Base):
    """A person who signs in: a learner, and possibly trainer, HR officer or admin."""

    __tablename__ = "users"
    __table_args__ = (enum_check("sex", Sex),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Họ và tên, always NFC.
    full_name: Mapped[str] = mapped_column(String(200))
    #: Lower-case login name; unique when set.
    username: Mapped[str | None] = mapped_column(String(100), unique=True)
    #: Lower-case e-mail; unique when set.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    birth_date: Mapped[date | None]
    #: Giới tính; None when not recorded (documents then say "Ông/Bà").
    sex: Mapped[Sex | None] = mapped_column(String(10))
    position: Mapped[str] = mapped_column(String(200), default="")
    rank: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: Bumped on sign-out, password change and disabling: every older session stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    #: Name, login and e-mail folded (lower case, no diacritics, đ -> d): search that ignores
    #: accents and case, the same on SQLite and PostgreSQL. Kept up to date by _keep_keys.
    search_key: Mapped[str] = mapped_column(String(600), default="", server_default="")
    #: The name in Vietnamese order (given name first) as digits: ORDER BY on any database.
    sort_key: Mapped[str] = mapped_column(String(400), default="", server_default="", index=True)

    unit: Mapped[OrgUnit | None] = relationship()
    #: Loaded when used: a signed-in request takes the role names from its session instead
    #: (remember_roles; every change of the grants bumps the session version).
    grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    #: The role names as the signed session recorded them for this session version.
    _remembered_roles = None

    @validates("full_name", "username", "email")
    def _keep_keys(self, name: str, value: str | None) -> str | None:
        values = {k: getattr(self, k) for k in ("full_name", "username", "email")} | {name: value}
        self.search_key = search_key(values["full_name"], values["username"], values["email"])
        self.sort_key = name_sort_string(values["full_name"] or "")
        return value

    def get_id(self) -> str:
        return self.session_id(self.id, self.session_version)

    @staticmethod
    def session_id(ident: int, session_version: int) -> str:
        """What the session stores of its user: id and version (a bumped version invalidates
        old cookies)."""
        return f"{ident}:{session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def login(self) -> str:
        return self.username or self.email or ""

    @property
    def roles(self) -> set[Role]:
        if self._remembered_roles is not None and "grants" not in self.__dict__:
            return set(self._remembered_roles)
        return {Role(g.role) for g in self.grants}

    def remember_roles(self, names: list[str]) -> None:
        """Use *names* (from this session version's signed session) instead of reading grants."""
        self._remembered_roles = frozenset(Role(n) for n in names)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return Role.admin in self.roles

    def scope_units(self, role: Role) -> list[OrgUnit] | None:
        """Units a role is limited to; None means the whole tree, [] means no such role."""
        grants = [g for g in self.grants if g.role == role]
        if any(g.unit_id is None for g in grants):
            return None
        return [g.unit for g in grants]

    def may_act_on_unit(self, role: Role, unit: OrgUnit | None) -> bool:
        """Whether *role* covers *unit* (admins cover everything)."""
        if self.is_admin:
            return True
        scope = self.scope_units(role)
        if scope is None:
            return self.has_role(role)
        return unit is not None and any(s.contains(unit) for s in scope)

    @property
    def given_name_key(self) -> tuple[str, str]:
        """Vietnamese sort key: given name (last word) first, then the rest."""
        return vn_sort_key(self.full_name)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login!r}>"


def _grants_changed(user: User, *_args: object) -> None:
    # A persistent user's roles changed: a new session version ends every session that
    # remembers the old roles (auth.load_user).
    if inspect(user).persistent:
        user.session_version = (user.session_version or 1) + 1


def search_key(full_name: str | None, username: str | None, email: str | None) -> str:
    """What a person search matches: name, login and e-mail, folded."""
    return fold(" ".join(nfc(p or "") for p in (full_name, username, email)))[:600]


class RoleGrant(Base):
    """One role of a user, optionally limited to the subtree of a unit."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", "unit_id"), enum_check("role", Role))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(String(20))
    #: None: the role applies everywhere; otherwise to this unit and everything below it.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    unit: Mapped[OrgUnit | None] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed sign-ins per key ("account:<login>" or "ip:<address>") and when the next may come."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


class TwoFactor(Base):
    """A user's TOTP authenticator (RFC 6238). Unconfirmed until the first code is entered."""

    __tablename__ = "user_two_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: The shared secret, encrypted with a key derived from SECRET_KEY (twofactor.py).
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    #: The time step of the last code accepted: that code and older ones are refused (replay).
    last_step: Mapped[int | None]


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator; only its SHA-256 is stored."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


event.listen(User.grants, "append", _grants_changed)
event.listen(User.grants, "remove", _grants_changed)
