"""Account services: NFC names, role sets with unit scopes, the password policy, audit."""

import threading
import time
import unicodedata

import pytest
from argon2 import PasswordHasher

from learnhub.accounts import passwords, services
from learnhub.accounts.models import Role, User
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor


def test_full_name_stored_nfc(create_user):
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    user = create_user(full_name=f"  {nfd}  ")
    assert user.full_name == "Nguyễn Thị Hồng Nhung"
    assert unicodedata.is_normalized("NFC", user.full_name)
    assert len(nfd) > len(user.full_name)


def test_login_or_email(create_user):
    by_email = create_user("A.Nguyen@CaMau.gov.vn")
    assert (by_email.username, by_email.email) == (None, "a.nguyen@camau.gov.vn")
    assert services.find_by_login("a.nguyen@camau.gov.vn") == by_email


def test_login_taken(create_user):
    create_user("trung")
    with pytest.raises(services.LoginTaken):
        create_user("TRUNG")


def test_roles_are_a_set_with_unit_scope(create_user, unit):
    thoi_binh = unit("X-THOI-BINH")
    user = create_user(roles=(Role.learner, Role.trainer, Role.hr), scope=thoi_binh)
    assert user.roles == {Role.learner, Role.trainer, Role.hr}
    assert user.scope_units(Role.hr) == [thoi_binh]
    assert user.scope_units(Role.learner) is None
    assert user.may_act_on_unit(Role.hr, thoi_binh)
    assert not user.may_act_on_unit(Role.hr, unit("CM-SNV"))


def test_province_scope_covers_departments(create_user, unit):
    user = create_user(roles=(Role.hr,), scope=unit("CM"))
    assert user.may_act_on_unit(Role.hr, unit("CM-SNV"))
    assert user.may_act_on_unit(Role.hr, unit("P-AN-XUYEN"))


def test_set_roles_is_audited(db_session, create_user, admin):
    user = create_user()
    services.set_roles(
        Actor(admin), user, [services.Grant(Role.learner), services.Grant(Role.trainer)]
    )
    event = db_session.query(AuditEvent).filter_by(action="user.roles").one()
    assert event.actor_id == admin.id
    assert event.before == {"roles": ["learner@*"]}
    assert event.after == {"roles": ["learner@*", "trainer@*"]}


def test_admin_cannot_remove_own_admin_role(admin):
    with pytest.raises(services.AccountError):
        services.set_roles(Actor(admin), admin, [services.Grant(Role.learner)])


def test_admin_cannot_disable_self(admin):
    with pytest.raises(services.AccountError):
        services.set_enabled(Actor(admin), admin, False)


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short", False),
        ("password", False),
        ("12345678", False),
        ("iloveyou", False),
        ("hocvien123", False),  # the login itself
        ("learnhub1", False),  # the system's name
        ("x" * 64, True),
        ("Một câu mật khẩu dài bằng tiếng Việt", True),
        ("correct horse battery staple", True),
    ],
)
def test_password_policy(app, password, ok):
    assert (passwords.password_problem(password, login="hocvien123") is None) is ok


def test_long_passwords_verified_exactly(app):
    long = "p" * 200 + "ư"
    stored = passwords.hash_password(long)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, long)
    assert not passwords.verify_password(stored, long[:-1])


def test_password_hashes_at_once_are_bounded(app, monkeypatch):
    """Each Argon2 hash holds ARGON2_MEMORY_COST: a burst of sign-ins on a worker's threads runs
    at most ARGON2_CONCURRENCY of them at once (the others wait their turn, and all succeed)."""
    active, peak, guard = 0, 0, threading.Lock()
    limit, burst, finished = 0, 6, 0  # this round's bound; sign-ins in it, and those done

    def nobody_else_to_wait_for() -> bool:
        # As many hashes as the bound lets in, or every other sign-in of the round is done.
        return active >= limit or finished + active >= burst

    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def counted(real):
        def call(self, *args, **kwargs):
            nonlocal active, peak
            with guard:
                active += 1
                peak = max(peak, active)
            try:
                # Each hash waits (bounded) for as many as the limit lets in, so that the peak
                # is reached however slowly the threads start on a loaded machine; then it
                # takes a while, long enough for an unbounded burst to pile up beyond it.
                wait_until(nobody_else_to_wait_for, timeout=30, what="hashes to overlap")
                time.sleep(0.05)
                return real(self, *args, **kwargs)
            finally:
                with guard:
                    active -= 1

        return call

    from tests.support import wait_until

    monkeypatch.setattr(PasswordHasher, "hash", counted(real_hash))
    monkeypatch.setattr(PasswordHasher, "verify", counted(real_verify))
    # A memory cost of its own: the unknown-user path hashes its dummy afresh, inside the bound.
    monkeypatch.setitem(app.config, "ARGON2_MEMORY_COST", app.config["ARGON2_MEMORY_COST"] + 8)
    stored = {}
    with app.app_context():
        stored["known"] = passwords.hash_password("một mật khẩu dài")
    results = []

    def sign_in(login: str) -> None:
        nonlocal finished
        try:
            with app.app_context():
                results.append(passwords.verify_password(stored.get(login), "một mật khẩu dài"))
        finally:
            with guard:
                finished += 1

    for limit in (1, 2):  # read by the hashes' wait
        peak, finished = 0, 0
        monkeypatch.setitem(app.config, "ARGON2_CONCURRENCY", limit)
        threads = [
            threading.Thread(target=sign_in, args=("known" if i % 2 else "unknown",))
            for i in range(burst)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert peak == limit
    assert sorted(results) == [False] * 6 + [True] * 6


def test_change_password_needs_current(learner):
    with pytest.raises(services.AccountError):
        services.change_password(Actor(learner), learner, "wrong", "another good passphrase")


def test_end_sessions_bumps_version(learner):
    version = learner.session_version
    services.end_sessions(Actor(learner), learner)
    assert learner.session_version == version + 1
    assert learner.get_id() == f"{learner.id}:{version + 1}"


def test_profile_update_audits_only_changes(db_session, admin, learner, unit):
    services.update_profile(Actor(admin), learner, position="Chuyên viên", unit=unit("CM-STC"))
    event = db_session.query(AuditEvent).filter_by(action="user.update").one()
    assert event.after == {"position": "Chuyên viên", "unit": "CM-STC"}
    assert db_session.get(User, learner.id).unit.code == "CM-STC"


def test_admin_creates_user_with_email(client, login, admin, db_session):
    from tests.support import csrf_token

    login(admin)
    token = csrf_token(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "full_name": "Lê Văn Ửng",
            "login": "levanung",
            "email": "ung.le@camau.gov.vn",
            "birth_date": "05/01/1985",
            "unit": "CM-SNV",
            "roles": ["learner", "trainer"],
            "password": "tạm thời một hai ba",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    user = services.find_by_login("ung.le@camau.gov.vn")
    assert user.username == "levanung"
    assert user.roles == {Role.learner, Role.trainer}
    assert user.must_change_password
    bad = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "full_name": "X",
            "login": "xx",
            "email": "not-an-email",
            "unit": "",
            "password": "tạm thời một hai ba",
        },
    )
    assert bad.status_code == 200
    assert "Email không hợp lệ" in bad.get_data(as_text=True)
