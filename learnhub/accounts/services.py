"""Account use cases: everything that changes users, roles and sign-in state lives here."""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from learnhub import db, policy
from learnhub.accounts import passwords, throttle
from learnhub.accounts.models import Role, RoleGrant, User, nfc
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.orgunits.models import OrgUnit
from learnhub.timeutil import utcnow


class AccountError(Exception):
    """A rule about accounts says no; the message is shown to the person."""


class LoginTaken(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class Throttled(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(frozen=True)
class Grant:
    role: Role
    unit_id: int | None = None


def find_by_login(login: str) -> User | None:
    """The user whose login name or e-mail is *login* (case-insensitive)."""
    key = login.strip().casefold()
    if not key:
        return None
    stmt = select(User).where(or_(User.username == key, User.email == key))
    return db.session.scalar(stmt)


def _split_login(login: str) -> tuple[str | None, str | None]:
    key = nfc(login).casefold()
    return (None, key) if "@" in key else (key, None)


def _snapshot(user: User) -> dict:
    return {
        "full_name": user.full_name,
        "username": user.username,
        "email": user.email,
        "birth_date": user.birth_date,
        "position": user.position,
        "rank": user.rank,
        "unit": user.unit.code if user.unit else None,
        "is_enabled": user.is_enabled,
        "roles": sorted(f"{g.role}@{g.unit.code if g.unit else '*'}" for g in user.grants),
    }


def _check_login_free(username: str | None, email: str | None, exclude: int | None) -> None:
    conds = []
    if username:
        conds.append(User.username == username)
    if email:
        conds.append(User.email == email)
    if not conds:
        raise AccountError(_l("Cần tên đăng nhập hoặc email."))
    stmt = select(User.id).where(or_(*conds))
    if exclude is not None:
        stmt = stmt.where(User.id != exclude)
    if db.session.scalar(stmt) is not None:
        raise LoginTaken(_l("Tên đăng nhập hoặc email này đã được dùng."))


def create_user(
    actor: Actor,
    *,
    full_name: str,
    login: str,
    email: str | None = None,
    password: str | None = None,
    roles: list[Grant] | None = None,
    unit: OrgUnit | None = None,
    birth_date: date | None = None,
    position: str = "",
    rank: str = "",
    must_change_password: bool = False,
) -> User:
    """Create an account; *login* is a login name or an e-mail address."""
    username, login_email = _split_login(login)
    email = nfc(email).casefold() if email else login_email
    _check_login_free(username, email, None)
    user = User(
        full_name=nfc(full_name),
        username=username,
        email=email,
        unit=unit,
        birth_date=birth_date,
        position=nfc(position),
        rank=nfc(rank),
        must_change_password=must_change_password,
    )
    if password is not None:
        problem = passwords.password_problem(password, login=login, full_name=full_name)
        if problem:
            raise WeakPassword(problem)
        user.password_hash = passwords.hash_password(password)
    for grant in roles or [Grant(Role.learner)]:
        user.grants.append(RoleGrant(role=grant.role, unit_id=grant.unit_id))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, None, _snapshot(user))
    return user


def update_profile(actor: Actor, user: User, **fields) -> User:
    """Change profile fields (full_name, login, email, birth_date, position, rank, unit)."""
    before = _snapshot(user)
    if "login" in fields:
        username, login_email = _split_login(fields.pop("login"))
        email = fields.pop("email", None)
        email = nfc(email).casefold() if email else login_email
        _check_login_free(username, email, user.id)
        user.username, user.email = username, email
    for key in ("full_name", "position", "rank"):
        if key in fields:
            setattr(user, key, nfc(fields[key] or ""))
    if "birth_date" in fields:
        user.birth_date = fields["birth_date"]
    if "unit" in fields:
        user.unit = fields["unit"]
    db.session.flush()
    old, new = audit.changes(before, _snapshot(user))
    if new:
        audit.record(actor, "user.update", "user", user.id, old, new)
    return user


def set_roles(actor: Actor, user: User, grants: list[Grant]) -> User:
    """Replace the user's roles; at least one role remains (learner)."""
    if (
        actor.user is not None
        and actor.user.id == user.id
        and not any(g.role == Role.admin and g.unit_id is None for g in grants)
    ):
        raise AccountError(_l("Bạn không thể tự bỏ quyền quản trị của chính mình."))
    before = _snapshot(user)
    wanted = set(grants) or {Grant(Role.learner)}
    current = {Grant(Role(g.role), g.unit_id): g for g in user.grants}
    for grant, row in current.items():
        if grant not in wanted:
            user.grants.remove(row)
    db.session.flush()
    for grant in wanted - set(current):
        user.grants.append(RoleGrant(role=grant.role, unit_id=grant.unit_id))
    db.session.flush()
    db.session.refresh(user)
    old, new = audit.changes(before, _snapshot(user))
    if new:
        audit.record(actor, "user.roles", "user", user.id, old, new)
    return user


def set_enabled(actor: Actor, user: User, enabled: bool) -> User:
    """Disable (ending every session at once) or re-enable an account."""
    if not enabled and actor.user is not None and actor.user.id == user.id:
        raise AccountError(_l("Bạn không thể tự khóa tài khoản của chính mình."))
    if user.is_enabled == enabled:
        return user
    user.is_enabled = enabled
    if not enabled:
        user.session_version += 1
    db.session.flush()
    action = "user.enable" if enabled else "user.disable"
    audit.record(
        actor, action, "user", user.id, {"is_enabled": not enabled}, {"is_enabled": enabled}
    )
    return user


def reset_password(actor: Actor, user: User, temporary: str) -> User:
    """Set a temporary password that must be changed at the next sign-in; ends all sessions."""
    problem = passwords.password_problem(temporary, login=user.login, full_name=user.full_name)
    if problem:
        raise WeakPassword(problem)
    user.password_hash = passwords.hash_password(temporary)
    user.must_change_password = True
    user.session_version += 1
    db.session.flush()
    audit.record(actor, "user.password_reset", "user", user.id)
    return user


def change_password(actor: Actor, user: User, current: str, new: str) -> User:
    """The user changes their own password; every other session ends."""
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError(_l("Mật khẩu hiện tại không đúng."))
    new_hash = passwords.hash_password(new)
    db.write_transaction()
    db.session.refresh(user)
    if new == current:
        raise WeakPassword(_l("Mật khẩu mới phải khác mật khẩu hiện tại."))
    problem = passwords.password_problem(new, login=user.login, full_name=user.full_name)
    if problem:
        raise WeakPassword(problem)
    user.password_hash = new_hash
    user.must_change_password = False
    user.session_version += 1
    db.session.flush()
    audit.record(actor, "user.password_change", "user", user.id)
    return user


def end_sessions(actor: Actor, user: User) -> User:
    """Invalidate every session of *user* (sign-out everywhere)."""
    user.session_version += 1
    db.session.flush()
    audit.record(actor, "user.sessions_ended", "user", user.id)
    return user


def authenticate(login: str, password: str, ip: str, config: dict, now: datetime) -> User | None:
    """The user for *login*/*password*, or None; raises Throttled while a delay runs.

    Unknown logins and wrong passwords take the same path, time and answer.
    """
    keys = [throttle.account_key(login), throttle.ip_key(ip)]
    wait = throttle.blocked_for(keys, now)
    if wait:
        raise Throttled(wait)
    user = find_by_login(login)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    db.write_transaction()  # the slow hashing is done: now take the write lock (SQLite)
    if user is not None:
        db.session.refresh(user)
    actor = Actor(user, ip)
    if not ok or user is None or not user.is_enabled:
        cap = config["THROTTLE_MAX_DELAY"]
        throttle.record_failure(keys[0], config["THROTTLE_ACCOUNT_FREE"], cap, now)
        throttle.record_failure(keys[1], config["THROTTLE_IP_FREE"], cap, now)
        audit.record(actor, "auth.login_failed", "login", login.strip().casefold()[:60])
        return None
    throttle.clear(keys[0])
    user.last_login_at = utcnow()
    audit.record(actor, "auth.login", "user", user.id)
    return user


def scope_unit_ids(user: User, role: Role = Role.hr) -> Select | None:
    """Ids of the units whose people *user* may see in the role's pages (learnhub.policy)."""
    return policy.unit_ids(user, role)


def people_in_scope(user: User, role: Role = Role.hr) -> Select | None:
    """SELECT of the ids of the users *user* may see in the role's reports (learnhub.policy)."""
    return policy.people_ids(user, role)


def in_scope(viewer: User, person: User, role: Role = Role.hr) -> bool:
    """Whether *viewer* may see *person* in the role's pages (learnhub.policy)."""
    return policy.person_in_scope(viewer, person, role)
