"""What the fault tests share: a quiz to burst on, a learner as an HTTP client that keeps what the
server acknowledged, gunicorn as production runs it, and a private PostgreSQL server to restart.

Every wait here has a deadline, so a fault that hangs fails the test instead of CI.
"""

import contextlib
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import Attempt, AttemptState
from tests.support import CSRF, require, wait_until

QUESTIONS = 20
PASSWORD = "fault learner passphrase"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Burst:
    quiz_id: int
    logins: list[str]


def make_burst(learners: int) -> Burst:
    """A published module with a 20-question quiz and *learners* accounts, committed."""
    tag = uuid.uuid4().hex[:8]
    module = catalog.create_module(
        SYSTEM,
        f"loi-{tag}",
        {"title": "Chuyên đề thử sự cố", "category": "ky-nang", "summary": "", "periods": 1},
        None,
    )
    draft = catalog.current_draft(module)
    catalog.set_lesson(draft, "bai-1", "Bài 1", "Nội dung.\n", [])
    catalog.save_draft(SYSTEM, module, draft)
    bank = "\n".join(
        f"::F{n:02d}:: Câu hỏi thử sự cố số {n}? {{=Đúng {n} ~Sai A ~Sai B ~Sai C}}\n"
        for n in range(1, QUESTIONS + 1)
    )
    quizzes.import_gift(SYSTEM, module, bank)
    catalog.publish(SYSTEM, module)
    quiz = quizzes.ensure_quiz(module)
    quiz.attempts_allowed = 0
    logins = []
    for i in range(learners):
        login = f"loi-{tag}-{i:02d}"
        accounts.create_user(
            SYSTEM,
            full_name=f"Học Viên Sự Cố {i}",
            login=login,
            password=PASSWORD,
            roles=[accounts.Grant(Role.learner)],
        )
        logins.append(login)
    db.session.commit()
    return Burst(quiz.id, logins)


def stored_answers(quiz_id: int) -> tuple[dict[tuple[int, int], int], int]:
    """(attempt id, position) -> the stored choice, and how many attempts are graded."""
    stored, graded = {}, 0
    for attempt in db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id)):
        graded += attempt.state == AttemptState.graded
        for item in attempt.items:
            if item.answer is not None:
                stored[(attempt.id, item.position)] = item.answer["choice"]
    return stored, graded


class Unreachable(Exception):
    """The server did not answer (connection refused, reset, closed mid-response)."""


@dataclass
class Learner:
    """One learner's browser: a keep-alive connection, a cookie jar, and every answer the server
    said it saved. Like quiz.js, a save that is not acknowledged is sent again."""

    port: int
    login: str
    cookies: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[tuple[int, int], int] = field(default_factory=dict)
    #: Requests that died with the connection, and 5xx answers: what the fault did to this client.
    disrupted: int = 0
    statuses: list[int] = field(default_factory=list)
    token: str = ""
    attempt_id: int = 0

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            self.disrupted += 1
            raise Unreachable(repr(exc)) from exc
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        self.statuses.append(response.status)
        if response.status >= 500:
            self.disrupted += 1
        return response.status, response.headers, data

    def form(self, path: str, fields: dict[str, str]):
        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def csrf(self, path: str) -> str:
        _status, _headers, body = self.request("GET", path)
        found = CSRF.search(body.decode())
        assert found, f"no CSRF token in {path}"
        return found.group(1)

    def retrying(self, action, deadline: float):
        """Run *action* until the server answers below 500 (a browser's retry, backing off),
        or fail at *deadline*."""

        def answered():
            try:
                status, headers, body = action()
            except Unreachable:
                return None
            return (status, headers, body) if status < 500 else None

        return wait_until(answered, _left(deadline), what=f"{self.login}: the server to come back")

    def sign_in_and_start(self, quiz_id: int, deadline: float) -> None:
        def sign_in():
            token = self.csrf("/login")
            return self.form("/login", {"login": self.login, "password": PASSWORD,
                                        "csrf_token": token})  # fmt: skip

        status, _h, _b = self.retrying(sign_in, deadline)
        assert status == 302, f"{self.login}: sign-in answered {status}"

        def start():
            token = self.csrf(f"/quizzes/{quiz_id}")
            return self.form(f"/quizzes/{quiz_id}/start", {"csrf_token": token})

        status, headers, _b = self.retrying(start, deadline)
        assert status == 302, f"{self.login}: start answered {status}"
        self.attempt_id = int(headers["Location"].rstrip("/").rsplit("/", 1)[-1])

        def attempt_page():
            return self.request("GET", f"/attempts/{self.attempt_id}")

        # Retried as the steps before it: a learner still starting when the fault strikes
        # reloads the page (unretried, a reset here failed the burst for the harness's sake).
        status, _h, body = self.retrying(attempt_page, deadline)
        assert status == 200, f"{self.login}: the attempt page answered {status}"
        found = CSRF.search(body.decode())
        assert found, f"{self.login}: no CSRF token on the attempt page"
        self.token = found.group(1)

    def save(self, position: int, choice: int) -> bool:
        """One autosave; True when the server said it is saved (then it must be stored)."""
        body = json.dumps({"choice": choice}).encode()
        status, _headers, data = self.request(
            "POST",
            f"/attempts/{self.attempt_id}/items/{position}",
            body,
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": self.token,
            },
        )
        if status != 200:
            return False
        reply = json.loads(data)
        if not reply.get("saved"):
            return False
        self.acknowledged[(self.attempt_id, position)] = choice
        self.token = reply.get("csrf") or self.token
        return True

    def save_until_acknowledged(self, position: int, choice: int, deadline: float) -> None:
        def saved() -> bool:
            try:
                return self.save(position, choice)
            except Unreachable:
                return False

        wait_until(
            saved, _left(deadline), what=f"{self.login}: answer {position} to be acknowledged"
        )

    def submit(self, deadline: float) -> int:
        def submit():
            return self.form(f"/attempts/{self.attempt_id}/submit", {"csrf_token": self.token})

        status, _h, _b = self.retrying(submit, deadline)
        return status

    def close(self) -> None:
        self.conn.close()


def _left(deadline: float) -> float:
    """Seconds from now to *deadline* (a time.monotonic() value)."""
    return max(deadline - time.monotonic(), 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, deadline: float, process: subprocess.Popen | None = None) -> None:
    def listening() -> bool:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_until(listening, _left(deadline), what=f"a server listening on port {port}")


def environment(config: dict) -> dict[str, str]:
    """The LEARNHUB_* variables that make a server process share the suite's instance."""
    return {
        **os.environ,
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": str(config["SECRET_KEY"]),
        "LEARNHUB_DATABASE_URL": str(config["DATABASE_URL"]),
        "LEARNHUB_STORAGE_DIR": str(config["STORAGE_DIR"]),
        "LEARNHUB_CONTENT_DIR": str(config["CONTENT_DIR"]),
        "LEARNHUB_CERTIFICATE_KEY_FILE": str(config["CERTIFICATE_KEY_FILE"]),
    }


def workers_of(master: int) -> list[int]:
    """The pids of gunicorn's workers (the master's children)."""
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def client_connections(pid: int, port: int) -> int:
    """How many established TCP connections to *port* the process *pid* holds (its sockets'
    inodes looked up in /proc/net/tcp): the clients a worker is serving."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01" and fields[9] in inodes:
                    count += 1
    return count


@contextlib.contextmanager
def gunicorn(config: dict, workers: int = 2, threads: int = 4) -> Iterator[tuple[int, int]]:
    """gunicorn as in docs/deploy.md (its worker class) on a free port; yields (master, port)."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "learnhub.serving.AnswersFirstWorker",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "learnhub:create_app()",
        ],
        cwd=ROOT,
        env=environment(config),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, time.monotonic() + 120, process)
        wait_until(lambda: len(workers_of(process.pid)) >= workers, 120, what=f"{workers} workers")
        yield process.pid, port
    finally:
        stop_gunicorn(process)


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Stop gunicorn as systemd does (SIGTERM, then a kill after 30 s). An unhandled error in a
    worker would be in its log (stderr, a pipe): none may appear."""
    process.send_signal(signal.SIGTERM)
    try:
        _out, errors = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, errors = process.communicate()
    assert "Traceback" not in (errors or ""), errors


@dataclass
class Postgres:
    """A PostgreSQL server of its own (initdb in a temporary folder), to stop and restart
    without disturbing the suite's database."""

    bin: Path
    data: Path
    port: int
    user: str | None  # run the server as this account (PostgreSQL refuses to run as root)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.data.parent / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")

    def stop(self) -> None:
        # "fast": every session is disconnected at once, as in a restart for an upgrade.
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@contextlib.contextmanager
def private_postgres() -> Iterator[Postgres]:
    pg_bin = _postgres_bin()
    require(pg_bin is not None, "PostgreSQL server binaries not found (apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:
        require(shutil.which("runuser") is not None, "runuser not found")
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            require(False, "no postgres account to run a private PostgreSQL server")
    folder = Path(tempfile.mkdtemp(prefix="learnhub-pg-"))
    server = Postgres(pg_bin, folder / "data", free_port(), user)
    try:
        if user:
            account = pwd.getpwnam(user)
            os.chown(folder, account.pw_uid, account.pw_gid)
        folder.chmod(0o755)
        server._run(
            "initdb", "-D", str(server.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync", "--locale=C.UTF-8",
        )  # fmt: skip
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def no_traceback(text: str) -> bool:
    return re.search(r"Traceback \(most recent call last\)", text) is None
