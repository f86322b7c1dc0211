"""Many requests at once against a real server: sign-ins and lesson reading never fail with
"database is locked" (SQLite) or any 5xx. (Found by the B1 benchmark.)"""

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from learnhub import db
from learnhub.accounts import services
from learnhub.audit.services import SYSTEM
from tests.support import CSRF

pytestmark = pytest.mark.no_rollback
PASSWORD = "concurrent sign-in passphrase"


def _opener():
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def _fetch(opener, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_simultaneous_sign_ins_and_reading(app, live_server):
    logins = [f"dongthoi-{uuid.uuid4().hex[:8]}" for _ in range(12)]
    with app.app_context():
        for login in logins:
            services.create_user(
                SYSTEM, full_name="Học Viên Đồng Thời", login=login, password=PASSWORD
            )
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(len(logins))
    statuses: list[int] = []
    lock = threading.Lock()

    def learner(login):
        opener = _opener()
        _s, page = _fetch(opener, f"{live_server}/login")
        token = CSRF.search(page).group(1)
        barrier.wait(timeout=30)
        status, _ = _fetch(
            opener,
            f"{live_server}/login",
            {"login": login, "password": PASSWORD, "csrf_token": token},
        )
        results = [status]
        _s, module = _fetch(opener, f"{live_server}/modules/doi-ngoai-nhan-dan")
        lesson = re.search(r'href="(/modules/doi-ngoai-nhan-dan/lessons/[^"]+)"', module).group(1)
        _s, page = _fetch(opener, f"{live_server}{lesson}")
        token = CSRF.search(page).group(1)
        for _ in range(3):
            status, _ = _fetch(opener, f"{live_server}{lesson}/read", {"csrf_token": token})
            results.append(status)
        with lock:
            statuses.extend(results)

    threads = [threading.Thread(target=learner, args=(login,)) for login in logins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(statuses) == 4 * len(logins)
    assert all(s == 200 for s in statuses), statuses
