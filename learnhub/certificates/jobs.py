"""Issuing a whole class in the background, never inside one request.

With ``LEARNHUB_REDIS_URL`` set the job goes to an RQ queue (several application servers share
it; run ``rq worker learnhub`` beside them); otherwise a worker thread of the application process
runs it (the embedded default). Either way :func:`run` does the work: each certificate is its
own short transaction, progress is saved after each, and running a job again (after a crash, or
twice at once) issues only what is still missing: the database's unique index on a learner's
valid certificate is the last word.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import func, select

from learnhub import db
from learnhub.accounts.models import User
from learnhub.attendance.models import Completion
from learnhub.audit.services import Actor, record
from learnhub.certificates import services
from learnhub.certificates.models import IssueJob, JobState
from learnhub.classes.models import TrainingClass
from learnhub.timeutil import utcnow

log = logging.getLogger(__name__)
QUEUE = "learnhub"
#: A running job whose heartbeat is older than this is taken for dead and may be resumed.
STALE_AFTER = timedelta(minutes=2)


def is_stale(job: IssueJob, now: datetime) -> bool:
    if job.state == JobState.failed:
        return True
    if job.state not in (JobState.running, JobState.queued):
        return False
    last = job.heartbeat_at or job.started_at or job.created_at
    return now - last > STALE_AFTER


def active_job(training_class: TrainingClass, now: datetime) -> IssueJob | None:
    """A job of the class that is queued or running (and alive)."""
    job = db.session.scalar(
        select(IssueJob)
        .where(
            IssueJob.class_id == training_class.id,
            IssueJob.state.in_((JobState.queued, JobState.running)),
        )
        .order_by(IssueJob.id.desc())
        .limit(1)
    )
    return job if job is not None and not is_stale(job, now) else None


def start(actor: Actor, training_class: TrainingClass, now: datetime) -> IssueJob:
    """A new job for what the class still needs, or the one already under way (double click)."""
    db.write_transaction()
    running = active_job(training_class, now)
    if running is not None:
        return running
    pending = services.pending(training_class).subquery()
    total = db.session.scalar(select(func.count()).select_from(pending)) or 0
    job = IssueJob(
        class_id=training_class.id,
        requested_by_id=actor.user_id,
        total=total,
        created_at=now,
    )
    if total == 0:  # nothing to issue: done at once, no worker needed
        job.state, job.finished_at = JobState.done, now
    db.session.add(job)
    db.session.flush()
    record(actor, "certificate.job.start", "issue_job", job.id, after={"total": total})
    return job


def dispatch(job: IssueJob) -> None:
    """Hand a committed job to RQ or to a worker thread."""
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        Queue(QUEUE, connection=Redis.from_url(url)).enqueue(
            rq_entry, job.id, job_timeout=3600, description=f"certificates for job {job.id}"
        )
        return
    threading.Thread(
        target=_thread_entry, args=(app, job.id), name=f"issue-job-{job.id}", daemon=True
    ).start()


def _thread_entry(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


def rq_entry(job_id: int) -> None:
    """What an RQ worker runs: inside the worker's app context, or a new app from the env."""
    if has_app_context():
        run(job_id)
        return
    from learnhub import create_app

    app = create_app()
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


def run(job_id: int, progress: Callable[[int], None] | None = None) -> IssueJob:
    """Issue every certificate the job's class still needs; resumable, never issues twice."""
    job = db.session.get(IssueJob, job_id)
    if job is None:
        raise LookupError(f"no certificate job {job_id}")
    if job.state == JobState.done:
        return job
    db.write_transaction()
    job.state = JobState.running
    job.started_at = job.started_at or utcnow()
    job.heartbeat_at = utcnow()
    job.error = ""
    db.session.commit()
    requester = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    actor = Actor(requester, via="job")
    training_class = job.training_class
    try:
        ids = list(
            db.session.scalars(
                services.pending(training_class).with_only_columns(Completion.user_id)
            )
        )
        for user_id in ids:
            # No write lock here: issue() renders first and locks only to number and store it.
            user = db.session.get(User, user_id)
            cert = services.valid_certificate(training_class, user)
            if cert is None:
                services.issue(actor, training_class, user, utcnow())
                job.issued += 1
            else:
                job.skipped += 1  # issued meanwhile (another job, a trainer, automatic issue)
            job.heartbeat_at = utcnow()
            db.session.commit()
            if progress is not None:
                progress(1)
        db.write_transaction()
        job.state = JobState.done
        job.finished_at = utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("certificate job %s failed", job_id)
        job = db.session.get(IssueJob, job_id)
        db.write_transaction()
        job.state = JobState.failed
        job.error = str(exc)[:2000] or type(exc).__name__
        job.finished_at = utcnow()
        db.session.commit()
    return job
