"""A gunicorn worker killed with SIGKILL in the middle of a quiz burst loses no answer that a
learner was told was saved (issue 8: faults)."""

import os
import random
import signal
import threading
import time

import pytest

from learnhub import db
from tests.faults.support import (
    Learner,
    client_connections,
    gunicorn,
    make_burst,
    stored_answers,
    workers_of,
)

pytestmark = pytest.mark.no_rollback

LEARNERS = 16
#: The worker is killed once this many answers have been acknowledged (of 2 × 20 per learner).
KILL_AFTER = 120


def test_sigkill_of_a_worker_loses_no_acknowledged_answer(app):
    with app.app_context():
        burst = make_burst(LEARNERS)
        db.session.remove()
    deadline = time.monotonic() + 150
    with gunicorn(app.config, workers=2, threads=4) as (master, port):
        before = workers_of(master)
        assert len(before) == 2
        learners = [Learner(port, login) for login in burst.logins]
        acknowledged = threading.Semaphore(0)
        failures: list[BaseException] = []

        def take_quiz(learner: Learner, seed: int) -> None:
            rng = random.Random(seed)
            try:
                learner.sign_in_and_start(burst.quiz_id, deadline)
                # Two passes: every answer is given, then half of them are changed; what counts
                # is the last answer the server acknowledged for each question.
                for changing in (False, True):
                    for position in range(1, 21):
                        if changing and rng.random() < 0.5:
                            continue
                        learner.save_until_acknowledged(position, rng.randrange(4), deadline)
                        acknowledged.release()
                assert learner.submit(deadline) == 302
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
            finally:
                learner.close()

        threads = [
            threading.Thread(target=take_quiz, args=(learner, n), daemon=True)
            for n, learner in enumerate(learners)
        ]
        for thread in threads:
            thread.start()
        for _ in range(KILL_AFTER):
            assert acknowledged.acquire(timeout=max(deadline - time.monotonic(), 0.1))
        # The worker holding the most learners' connections, so that the kill hits some.
        victim = max(before, key=lambda pid: client_connections(pid, port))
        os.kill(victim, signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        assert not any(t.is_alive() for t in threads), "the burst did not finish in time"
        assert not failures, failures[0]
        after = workers_of(master)

    # The worker died and gunicorn replaced it; clients on its connections saw the fault.
    assert victim not in after
    assert len(after) == 2
    assert sum(learner.disrupted for learner in learners) > 0
    assert all(status != 500 for learner in learners for status in learner.statuses)
    with app.app_context():
        stored, graded = stored_answers(burst.quiz_id)
        db.session.remove()
    acknowledged_answers = {k: v for learner in learners for k, v in learner.acknowledged.items()}
    assert len(acknowledged_answers) == LEARNERS * 20
    lost = {k: v for k, v in acknowledged_answers.items() if stored.get(k) != v}
    assert lost == {}
    assert graded == LEARNERS
