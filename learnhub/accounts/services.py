"""Account use cases: everything that changes users, roles and sign-in state lives here."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from learnhub import db
from learnhub.accounts import passwords, throttle
from learnhub.accounts.models import USERNAME, Role, RoleGrant, Sex, User, nfc
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.orgunits.models import OrgUnit
from learnhub.textutil import fold
from learnhub.timeutil import today, utcnow


class AccountError(Exception):
    """A rule about accounts says no; the message is shown to the person."""


class LoginTaken(AccountError):
    pass


class BadLogin(AccountError):
    """A login name outside USERNAME (accents, capitals, spaces)."""


class BadBirthDate(AccountError):
    """A birth date no person can have (in the future)."""


def check_birth_date(birth_date: date | None) -> None:
    """The date rule of a birth date: not after today (in the province)."""
    if birth_date is not None and birth_date > today():
        raise BadBirthDate(_l("Ngày sinh không được sau ngày hôm nay."))


class WeakPassword(AccountError):
    pass


class Throttled(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


class ScopeRequired(AccountError):
    """An HR grant that names no unit and was not explicitly made for every unit."""


@dataclass(frozen=True)
class Grant:
    """A role to grant, limited to a unit's subtree or (unit_id None) to none.

    An HR grant without a unit lets its holder see every unit's people, so it is accepted only
    when *every_unit* says an admin chose that ("Mọi đơn vị (toàn tỉnh)"). The flag is not part
    of the grant's identity: it is stored as the missing unit.
    """

    role: Role
    unit_id: int | None = None
    every_unit: bool = field(default=False, compare=False)


HR_SCOPE_REQUIRED = _l(
    "Vai trò cán bộ tổ chức phải ghi rõ đơn vị được giao, hoặc chọn rõ “Mọi đơn vị (toàn tỉnh)”."
)


def grants_for(
    roles: Iterable[Role],
    *,
    trainer_unit_id: int | None = None,
    hr_unit_ids: Iterable[int] = (),
    hr_every_unit: bool = False,
) -> list[Grant]:
    """The grants an admin's choice of roles and scopes means (checked by check_grants)."""
    grants = []
    for role in roles:
        if role == Role.hr:
            ids = list(hr_unit_ids)
            if hr_every_unit or not ids:
                grants.append(Grant(Role.hr, every_unit=hr_every_unit))
            grants += [Grant(Role.hr, unit_id) for unit_id in ids]
        elif role == Role.trainer:
            grants.append(Grant(role, trainer_unit_id))
        else:
            grants.append(Grant(role))
    return grants


def check_grants(grants: Iterable[Grant]) -> None:
    """Refuse an HR grant that names no unit, unless "every unit" was chosen (and alone)."""
    hr = [g for g in grants if g.role == Role.hr]
    if any(g.unit_id is None and not g.every_unit for g in hr):
        raise ScopeRequired(HR_SCOPE_REQUIRED)
    if any(g.unit_id is None for g in hr) and any(g.unit_id is not None for g in hr):
        raise ScopeRequired(
            _l("Chọn các đơn vị được giao hoặc “Mọi đơn vị (toàn tỉnh)”, không chọn cả hai.")
        )


def require_admin(actor: Actor) -> None:
    """Accounts and roles are changed by admins (or the command line), never by anyone else."""
    if actor.user is not None and not actor.user.is_admin:
        raise AccountError(_l("Chỉ quản trị viên mới được tạo tài khoản hoặc đổi vai trò."))


def find_by_login(login: str) -> User | None:
    """The user whose login name or e-mail is *login* (case-insensitive)."""
    key = nfc(login).casefold()  # typed in NFD (Unikey, macOS) it is the same login
    if not key:
        return None
    stmt = select(User).where(or_(User.username == key, User.email == key))
    return db.session.scalar(stmt)


def search_users(q: str) -> Select:
    """Users whose name, login or e-mail holds every word of *q*, ignoring accents and case
    ("nguyen van ung" finds "Nguyễn Văn Ửng"), in Vietnamese name order."""
    stmt = select(User)
    for word in fold(nfc(q)).split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(User.search_key.like(f"%{escaped}%", escape="\\"))
    return stmt.order_by(User.sort_key, User.id)


def _split_login(login: str) -> tuple[str | None, str | None]:
    """(login name, None) or (None, e-mail); a login name is checked against USERNAME here,
    where every account is created or renamed."""
    key = nfc(login).casefold()
    if "@" in key:
        return None, key
    if not USERNAME.match(key):
        raise BadLogin(
            _l("Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số và . _ - (ví dụ nguyenvana).")
        )
    return key, None


def _snapshot(user: User) -> dict:
    return {
        "full_name": user.full_name,
        "username": user.username,
        "email": user.email,
        "birth_date": user.birth_date,
        "sex": user.sex,
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
    sex: Sex | None = None,
    position: str = "",
    rank: str = "",
    must_change_password: bool = False,
) -> User:
    """Create an account; *login* is a login name or an e-mail address."""
    require_admin(actor)
    grants = roles or [Grant(Role.learner)]
    check_grants(grants)
    username, login_email = _split_login(login)
    email = nfc(email).casefold() if email else login_email
    _check_login_free(username, email, None)
    check_birth_date(birth_date)
    user = User(
        full_name=nfc(full_name),
        username=username,
        email=email,
        unit=unit,
        birth_date=birth_date,
        sex=Sex(sex) if sex else None,
        position=nfc(position),
        rank=nfc(rank),
        must_change_password=must_change_password,
    )
    if password is not None:
        problem = passwords.password_problem(password, login=login, full_name=full_name)
        if problem:
            raise WeakPassword(problem)
        user.password_hash = passwords.hash_password(password)
    for grant in grants:
        user.grants.append(RoleGrant(role=grant.role, unit_id=grant.unit_id))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, None, _snapshot(user))
    return user


def update_profile(actor: Actor, user: User, **fields) -> User:
    """Change profile fields (full_name, login, email, birth_date, sex, position, rank, unit)."""
    require_admin(actor)
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
        check_birth_date(fields["birth_date"])
        user.birth_date = fields["birth_date"]
    if "sex" in fields:
        user.sex = Sex(fields["sex"]) if fields["sex"] else None
    if "unit" in fields:
        user.unit = fields["unit"]
    db.session.flush()
    old, new = audit.changes(before, _snapshot(user))
    if new:
        audit.record(actor, "user.update", "user", user.id, old, new)
    return user


def set_roles(actor: Actor, user: User, grants: list[Grant]) -> User:
    """Replace the user's roles; at least one role remains (learner)."""
    require_admin(actor)
    check_grants(grants)
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


def check_throttle(keys: list[str], now: datetime) -> None:
    """Raise Throttled while a delay runs for any of *keys* (see throttle_keys)."""
    wait = throttle.blocked_for(keys, now)
    if wait:
        raise Throttled(wait)


def count_attempt(keys: list[str], ok: bool, config: dict, now: datetime) -> None:
    """Count one try of a secret against *keys* (account first, then address): a failure
    grows both delays, a success forgives the account."""
    if ok:
        throttle.clear(keys[0])
        return
    cap = config["THROTTLE_MAX_DELAY"]
    throttle.record_failure(keys[0], config["THROTTLE_ACCOUNT_FREE"], cap, now)
    throttle.record_failure(keys[1], config["THROTTLE_IP_FREE"], cap, now)


def throttle_keys(account_key: str, ip: str) -> list[str]:
    return [account_key, throttle.ip_key(ip)]


def authenticate(login: str, password: str, ip: str, config: dict, now: datetime) -> User | None:
    """The user for *login*/*password*, or None; raises Throttled while a delay runs.

    Unknown logins and wrong passwords take the same path, time and answer.
    """
    keys = throttle_keys(throttle.account_key(login), ip)
    check_throttle(keys, now)
    user = find_by_login(login)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    db.write_transaction()  # the slow hashing is done: now take the write lock (SQLite)
    if user is not None:
        db.session.refresh(user)
    actor = Actor(user, ip)
    ok = ok and user is not None and user.is_enabled
    count_attempt(keys, ok, config, now)
    if not ok:
        audit.record(actor, "auth.login_failed", "login", login.strip().casefold()[:60])
        return None
    user.last_login_at = utcnow()
    audit.record(actor, "auth.login", "user", user.id)
    return user


def reauthenticate(user: User, password: str, ip: str, config: dict, now: datetime) -> bool:
    """Whether *password* is the signed-in *user*'s: the sign-in rule, on the same account key
    (failures here and at /login add up), raising Throttled while a delay runs."""
    keys = throttle_keys(throttle.account_key(user.login), ip)
    check_throttle(keys, now)
    ok = passwords.verify_password(user.password_hash, password)
    db.write_transaction()
    db.session.refresh(user)
    ok = ok and user.is_enabled
    count_attempt(keys, ok, config, now)
    audit.record(Actor(user, ip), "auth.reauth" if ok else "auth.reauth_failed", "user", user.id)
    return ok
