"""B1: the quiz burst. 500 learners start the same 20-question quiz together, save 20 answers one
by one, and submit, against gunicorn on 127.0.0.1; baseline: a trivial route on the same server.

run() uses a small fresh SQLite database; run(database_url) adds the quiz and its learners to an
existing database instead (the growth workload: PostgreSQL holding size S or M). The server's
resident memory (gunicorn master and workers) is sampled throughout."""

import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from alembic import command
from sqlalchemy import insert, select

from bench.load import CSRF, Client, Stats, hammer, percentile
from learnhub import create_app, db
from learnhub.accounts import passwords
from learnhub.accounts.models import Role, RoleGrant, User
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.cli import alembic_config
from learnhub.config import ROOT
from learnhub.content.sync import sync_content
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import Attempt, AttemptState

LEARNERS = int(os.environ.get("BENCH_B1_LEARNERS", "500"))
QUESTIONS = 20
PASSWORD = "bench learner passphrase"


def _bank() -> str:
    lines = []
    for n in range(1, QUESTIONS + 1):
        lines.append(f"::B{n:02d}:: Câu hỏi kiểm thử số {n}? {{=Đúng {n} ~Sai A ~Sai B ~Sai C}}\n")
    return "\n".join(lines)


def prepare(env: dict[str, str]) -> int:
    """A fresh database with the content, a 20-question quiz and the learners; returns quiz id."""
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        list(sync_content(SYSTEM, ROOT / "content", Path(env["LEARNHUB_STORAGE_DIR"])))
        module = catalog.create_module(
            SYSTEM,
            "bench-b1",
            {"title": "Chuyên đề đo tải", "category": "ky-nang", "summary": "B1", "periods": 1},
            None,
        )
        draft = catalog.current_draft(module)
        catalog.set_lesson(draft, "bai-1", "Bài 1", "Nội dung.\n", [])
        catalog.save_draft(SYSTEM, module, draft)
        catalog.publish(SYSTEM, module)
        quizzes.import_gift(SYSTEM, module, _bank())
        quiz = quizzes.ensure_quiz(module)
        quiz.attempts_allowed = 0
        hashed = passwords.hash_password(PASSWORD)
        db.session.execute(
            insert(User),
            [
                {
                    "full_name": f"Học Viên Đo Tải {i}",
                    "username": f"b1-{i:04d}",
                    "password_hash": hashed,
                    "position": "",
                    "rank": "",
                    "is_enabled": True,
                    "must_change_password": False,
                    "session_version": 1,
                }
                for i in range(LEARNERS)
            ],
        )
        ids = db.session.scalars(select(User.id).where(User.username.like("b1-%"))).all()
        db.session.execute(insert(RoleGrant), [{"user_id": i, "role": Role.learner} for i in ids])
        db.session.commit()
        quiz_id = quiz.id
        db.session.remove()
    app.extensions["learnhub.engine"].dispose()
    return quiz_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "bench.wsgi:app",
        ],
        env={**os.environ, **env},
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


class ServerMemory:
    """Samples the resident memory of a server process and its children (the gunicorn workers)
    every *interval* seconds, in a thread: the peak of their sum and of one worker, in MiB."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid, self.interval = pid, interval
        self.peak_total = self.peak_worker = self.start_total = 0.0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss(pid: int) -> float:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0.0
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        return int(found[1]) / 1024 if found else 0.0

    def _children(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(x) for x in text.split()]

    def sample(self) -> float:
        workers = [self._rss(pid) for pid in self._children()]
        total = self._rss(self.pid) + sum(workers)
        self.peak_total = max(self.peak_total, total)
        self.peak_worker = max([self.peak_worker, *workers])
        return total

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.start_total = self.sample()
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()


def run(database_url: str | None = None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="learnhub-bench-"))
    env = {
        "LEARNHUB_ENV": "development",
        "LEARNHUB_SECRET_KEY": secrets.token_hex(32),
        "LEARNHUB_DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.sqlite'}",
        "LEARNHUB_STORAGE_DIR": str(tmp / "storage"),
    }
    quiz_id = prepare(env)
    port = free_port()
    workers, threads = 4, 8
    server = start_server(env, port, workers, threads)
    memory = ServerMemory(server.pid)
    memory.start()
    stats = Stats()
    try:
        trivial_rps = hammer(
            "127.0.0.1", port, "/__bench/trivial", LEARNERS * 20, LEARNERS, stats, "trivial"
        )
        clients = [Client("127.0.0.1", port, stats) for _ in range(LEARNERS)]
        acks: dict[tuple[int, int], int] = {}
        attempts: dict[int, int] = {}
        barrier = threading.Barrier(LEARNERS)
        save_window = [float("inf"), 0.0]
        lock = threading.Lock()

        def learner(i: int) -> None:
            c = clients[i]
            _s, _h, body = c.get("login_page", "/login")
            token = CSRF.search(body.decode()).group(1)
            c.post_form(
                "login",
                "/login",
                {"login": f"b1-{i:04d}", "password": PASSWORD, "csrf_token": token},
            )
            _s, _h, body = c.get("quiz_info", f"/quizzes/{quiz_id}")
            token = CSRF.search(body.decode()).group(1)
            barrier.wait(timeout=600)
            _s, headers, _b = c.post_form(
                "start", f"/quizzes/{quiz_id}/start", {"csrf_token": token}
            )
            attempt_id = int(headers.get("Location", "0").rstrip("/").rsplit("/", 1)[-1] or 0)
            _s, _h, body = c.get("quiz_page", f"/attempts/{attempt_id}")
            page = body.decode()
            attempts[i] = attempt_id
            counts = [
                len(re.findall(r'name="choice"', block))
                for block in page.split('class="card question"')[1:]
            ]
            rng = random.Random(i)
            first = time.perf_counter()
            for position, n in enumerate(counts, start=1):
                choice = rng.randrange(n)
                status, _h, data = c.post_json(
                    "save", f"/attempts/{attempt_id}/items/{position}", {"choice": choice}, token
                )
                if status == 200 and b'"saved":true' in data:
                    acks[(attempt_id, position)] = choice
                    token = re.search(rb'"csrf":"([^"]+)"', data).group(1).decode()
            last = time.perf_counter()
            with lock:
                save_window[0] = min(save_window[0], first)
                save_window[1] = max(save_window[1], last)
            c.post_form("submit", f"/attempts/{attempt_id}/submit", {"csrf_token": token})

        burst_started = time.perf_counter()
        threads_ = [threading.Thread(target=learner, args=(i,)) for i in range(LEARNERS)]
        for t in threads_:
            t.start()
        for t in threads_:
            t.join()
        burst_seconds = time.perf_counter() - burst_started
        # The quiz page: a learner with a new attempt in progress, loaded as often as the trivial route.
        probe = clients[0]
        _s, _h, body = probe.get("quiz_info", f"/quizzes/{quiz_id}")
        token = CSRF.search(body.decode()).group(1)
        _s, headers, _b = probe.post_form(
            "start", f"/quizzes/{quiz_id}/start", {"csrf_token": token}
        )
        page_path = headers["Location"]
        page_stats = Stats()
        quiz_page_rps = hammer(
            "127.0.0.1",
            port,
            page_path,
            LEARNERS * 20,
            LEARNERS,
            page_stats,
            "quiz_page",
            probe.cookies,
        )
        stats.errors.extend(page_stats.errors)
        quiz_page_latencies = page_stats.latencies.get("quiz_page", [])
        quiz_page_bytes = len(probe.get("quiz_page", page_path)[2])
        for c in clients:
            c.close()
    finally:
        memory.stop()
        server.terminate()
        server.wait(timeout=30)

    # Every answer a client saw acknowledged must be in the database.
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        stored = {}
        finished = 0
        rows = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id)).all()
        for attempt in rows:
            finished += attempt.state == AttemptState.graded
            for item in attempt.items:
                if item.answer is not None:
                    stored[(attempt.id, item.position)] = item.answer["choice"]
        lost = sum(1 for key, choice in acks.items() if stored.get(key) != choice)
        attempt_count = len(rows) - 1  # the probe's extra attempt
        db.session.remove()
    app.extensions["learnhub.engine"].dispose()
    saves = stats.latencies.get("save", [])
    save_seconds = max(save_window[1] - save_window[0], 1e-9)
    return {
        "learners": LEARNERS,
        "workers": f"gunicorn {workers} workers x {threads} threads (gthread)",
        "trivial_rps": trivial_rps,
        "trivial_p95": percentile(stats.latencies["trivial"], 95),
        "save_rps": len(saves) / save_seconds,
        "save_p95": percentile(saves, 95),
        "quiz_page_rps": quiz_page_rps,
        "quiz_page_bytes": quiz_page_bytes,
        "quiz_page_p95": percentile(quiz_page_latencies, 95),
        "saves": len(saves),
        "acknowledged": len(acks),
        "lost": lost,
        "errors": len(stats.errors),
        "error_samples": stats.errors[:5],
        "attempts": attempt_count,
        "graded": finished,
        "burst_seconds": burst_seconds,
        "server_rss_start_mib": memory.start_total,
        "server_rss_peak_mib": memory.peak_total,
        "worker_rss_peak_mib": memory.peak_worker,
    }
