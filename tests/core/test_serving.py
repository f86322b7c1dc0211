"""Issue 18: the deployed gunicorn worker (learnhub.serving.AnswersFirstWorker) serves an answer
save while every ordinary thread is busy and more requests queue behind them: in an exam's start
burst the learners' saves do not wait behind a thousand starts. Real gunicorn, real sockets."""

import http.client
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from learnhub import serving
from tests.faults.support import (
    client_connections,
    free_port,
    stop_gunicorn,
    wait_for_port,
    workers_of,
)
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
SAVE = "/attempts/7/items/3"


def test_the_answer_pattern_is_the_save_route(app):
    """The request line the worker peeks for is the route of quizzes.views.save, and no other
    route of a quiz."""
    from flask import url_for

    with app.test_request_context():
        save = url_for("quizzes.save", attempt_id=12, position=3)
        others = [
            ("POST", url_for("quizzes.submit", attempt_id=12)),
            ("POST", url_for("quizzes.start", quiz_id=12)),
            ("GET", url_for("quizzes.attempt", attempt_id=12)),
            ("GET", save),
        ]
    assert serving.is_answer_save(f"POST {save} HTTP/1.1\r\nHost: x\r\n".encode())
    assert serving.is_answer_save(f"POST {save}?x=1 HTTP/1.0\r\n".encode())
    for method, path in others:
        assert not serving.is_answer_save(f"{method} {path} HTTP/1.1\r\n".encode()), path
    assert not serving.is_answer_save(b"\x16\x03\x01\x02\x00\x01")  # a TLS ClientHello
    assert not serving.is_answer_save(b"")


@pytest.fixture
def server(tmp_path):
    """gunicorn with the deployed worker class, one worker with one ordinary thread."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            "1",
            "--worker-class",
            "learnhub.serving.AnswersFirstWorker",
            "--threads",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "tests.core.serving_app:app",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SERVING_TEST_DIR": str(tmp_path)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, time.monotonic() + 60, process)
        wait_until(lambda: workers_of(process.pid), 60, what="the worker")
        yield port, workers_of(process.pid)[0], tmp_path
    finally:
        (tmp_path / "release").touch()
        stop_gunicorn(process)


def _request(port: int, method: str, path: str, results: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None)
        response = connection.getresponse()
        results.append((response.status, response.read()))
    finally:
        connection.close()


def _hold_the_threads(port: int, signals: Path) -> tuple[list, list[threading.Thread]]:
    """Two held requests: one in the worker's only ordinary thread, one queued behind it."""
    held: list = []
    threads = [threading.Thread(target=_request, args=(port, "GET", "/hold", held)) for _ in "ab"]
    for thread in threads:
        thread.start()
    wait_until(lambda: list(signals.glob("started-*")), 60, what="the first held request")
    return held, threads


def test_an_answer_save_is_served_while_other_requests_hold_every_thread(server):
    port, _worker, signals = server
    held, threads = _hold_the_threads(port, signals)
    saved: list = []
    _request(port, "POST", SAVE, saved)
    assert saved == [(200, b"POST " + SAVE.encode())]
    assert held == []  # both held requests are still waiting: the save did not queue behind them
    assert len(list(signals.glob("started-*"))) == 1
    (signals / "release").touch()
    for thread in threads:
        thread.join(60)
    assert held == [(200, b"released"), (200, b"released")]


def test_a_save_whose_bytes_come_after_the_connection_is_sorted_when_they_come(server):
    """A connection accepted before its request arrives waits in the poller; its request, an
    answer save, then takes the answers' lane."""
    port, worker, signals = server
    held, threads = _hold_the_threads(port, signals)
    with socket.create_connection(("127.0.0.1", port), timeout=90) as sock:
        # Two held connections, then this one: accepted by the worker with nothing to read yet.
        wait_until(lambda: client_connections(worker, port) >= 3, 60, what="the accept")
        sock.sendall(f"POST {SAVE} HTTP/1.0\r\nContent-Length: 0\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.0 200"), reply[:80]
    assert reply.endswith(b"POST " + SAVE.encode())
    assert held == []
    (signals / "release").touch()
    for thread in threads:
        thread.join(60)
    assert len(held) == 2


def test_the_worker_hides_what_it_loaded_from_the_garbage_collector(server):
    """Everything alive once the worker has loaded the app is frozen (gc.freeze): a full
    collection no longer walks the app's objects, which live as long as the worker."""
    port, _worker, _signals = server
    answered: list = []
    _request(port, "GET", "/frozen", answered)
    [(status, body)] = answered
    assert status == 200
    assert int(body) > 10_000  # gunicorn's and the app's objects; 0 when nothing was frozen
