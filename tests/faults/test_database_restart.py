"""PostgreSQL stopped and started again under a running app: while it is down every page says so
(503, Retry-After, no traceback), no answer the learner was told was saved is lost, and the same
server processes work again once it is back, without a restart of the app (issue 8: faults)."""

import os
import threading
import time

import pytest

from learnhub import create_app, db
from tests.conftest import make_config, prepare_database
from tests.faults.support import (
    Learner,
    Unreachable,
    gunicorn,
    make_burst,
    no_traceback,
    private_postgres,
    stored_answers,
    workers_of,
)
from tests.support import wait_until

pytestmark = [
    pytest.mark.no_rollback,
    pytest.mark.skipif(
        os.environ.get("LEARNHUB_TEST_BACKEND") != "postgresql",
        reason="PostgreSQL faults run in the PostgreSQL pass (on a private server)",
    ),
]


def test_the_app_recovers_when_postgresql_restarts(tmp_path):
    with private_postgres() as server:
        app = create_app(make_config(tmp_path, server.url))
        prepare_database(app)
        with app.app_context():
            burst = make_burst(1)
            db.session.remove()
        deadline = time.monotonic() + 120
        with gunicorn(app.config, workers=1, threads=4) as (master, port):
            workers = workers_of(master)
            learner = Learner(port, burst.logins[0])
            learner.sign_in_and_start(burst.quiz_id, deadline)
            for position in range(1, 6):
                assert learner.save(position, position % 4)

            # One learner keeps saving answers through the whole restart.
            phase = {"down": False, "acks_after": 0, "answers_while_down": []}
            stop = threading.Event()

            def keep_saving() -> None:
                position, choice = 6, 0
                while not stop.is_set():
                    choice = (choice + 1) % 4
                    try:
                        saved = learner.save(position, choice)
                    except Unreachable:
                        saved = False
                    if phase["down"]:
                        phase["answers_while_down"].append(learner.statuses[-1])
                    elif saved and phase.get("restarted"):
                        phase["acks_after"] += 1
                    if saved:
                        position = 6 + (position - 5) % 15
                    stop.wait(0.02)  # a learner's pace, not a wait for anything

            saver = threading.Thread(target=keep_saving, daemon=True)
            answered = len(learner.statuses)
            saver.start()
            # The database goes down while answers are being saved, not before the first one.
            wait_until(
                lambda: len(learner.statuses) >= answered + 3, 30, what="saves before the restart"
            )
            server.stop()
            phase["down"] = True
            visitor = Learner(port, "visitor")
            visitor.cookies = dict(learner.cookies)
            try:
                status, headers, body = visitor.request("GET", "/dashboard")
                text = body.decode()
                assert status == 503
                assert headers["Retry-After"] == "5"
                assert "Hệ thống tạm thời gián đoạn" in text
                assert no_traceback(text)
                status, _headers, body = visitor.request("GET", "/healthz")
                assert status == 503
                wait_until(
                    lambda: len(phase["answers_while_down"]) >= 3, 60, what="saves while down"
                )
            finally:
                phase["down"] = False
                server.start()
            phase["restarted"] = True
            wait_until(lambda: visitor.request("GET", "/dashboard")[0] == 200, 60, what="recovery")
            wait_until(lambda: phase["acks_after"] >= 3, 60, what="saves after the restart")
            stop.set()
            saver.join(timeout=20)
            assert visitor.request("GET", "/healthz")[0] == 200
            assert learner.submit(deadline) == 302
            # The same worker served before, during and after: the app was not restarted.
            assert workers_of(master) == workers
            learner.close()
            visitor.close()

        # While the database was down, saves were refused as "try again" (503), never 500.
        assert set(phase["answers_while_down"]) <= {503}
        assert 500 not in learner.statuses
        with app.app_context():
            stored, graded = stored_answers(burst.quiz_id)
            db.session.remove()
        lost = {k: v for k, v in learner.acknowledged.items() if stored.get(k) != v}
        assert lost == {}
        assert graded == 1
        app.extensions["learnhub.engine"].dispose()
