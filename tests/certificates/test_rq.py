"""Bulk issue through RQ on a real Redis (several application servers share the queue)."""

import shutil
import signal
import subprocess

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.audit.services import Actor
from learnhub.certificates import jobs
from learnhub.certificates.models import IssueJob, JobState
from learnhub.classes.models import TrainingClass
from learnhub.timeutil import utcnow
from tests.certificates.test_concurrency import _certificates, committed_class
from tests.support import require, wait_until

pytestmark = pytest.mark.no_rollback


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    require(server is not None, "redis-server is not installed (apt-get install redis-server)")
    sock = tmp_path / "redis.sock"
    proc = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(sock.exists, timeout=60, what="redis-server's socket")
    yield f"unix://{sock}"
    proc.terminate()
    proc.wait(timeout=10)


def test_issue_job_goes_to_the_rq_queue(app, redis_url, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    class_id, user_ids = committed_class(app, 3)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        job = jobs.start(Actor(None), klass, utcnow())
        db.session.commit()
        jobs.dispatch(job)
        job_id = job.id
        db.session.remove()
    connection = Redis.from_url(redis_url)
    queue = Queue(jobs.QUEUE, connection=connection)
    assert queue.count == 1  # queued, not run by the web process
    with app.app_context():
        assert db.session.get(IssueJob, job_id).state == JobState.queued
        db.session.remove()
        # What `rq worker learnhub` does on another machine, here in-process.
        # The worker installs its own SIGINT/SIGTERM handlers in this process: put pytest's
        # back, or a later Ctrl-C (or CI's stop) raises rq's StopRequested in another test.
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            SimpleWorker([queue], connection=connection).work(burst=True)
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)
        state = db.session.scalar(select(IssueJob.state).where(IssueJob.id == job_id))
        db.session.remove()
    connection.close()
    assert state == JobState.done
    assert sorted(c.user_id for c in _certificates(app, class_id)) == sorted(user_ids)
