"""Issuing a whole class in the background, never inside one request.

With ``LEARNHUB_REDIS_URL`` set the job goes to an RQ queue (several application servers share
it; run ``rq worker learnhub`` beside them); otherwise a worker thread of the application process
runs it (the embedded default). Either way :func:`run` does the work: each certificate is its
own short transaction, progress is saved after each, and running a job again (after a crash, or
twice at once) issues only what is still missing: the database's unique index on a learner's
valid certificate is the last word.

Automatic issue at completion is such a job too: the request that recorded the completion (a
lesson read, a roll call) only queues it, and it is handed to the worker once that request's
transaction has committed. No PDF is rendered inside the request.

A job of more than one learner renders with a pool of render processes (``PDF_WORKERS``, one per
core by default; learnhub.pdf.RenderPool): the register numbers are still taken one learner at a
time, in order, under the counter's lock (see _issue_pooled).
"""

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learnhub import db, pdf, signals
from learnhub.accounts.models import User
from learnhub.attendance.models import Completion
from learnhub.audit.services import Actor, record
from learnhub.certificates import services
from learnhub.certificates.models import Certificate, IssueJob, JobState
from learnhub.classes.models import TrainingClass
from learnhub.timeutil import utcnow

log = logging.getLogger(__name__)
AUTO = Actor(None, via="auto")
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
    _dispatch_id(job.id)


def _dispatch_id(job_id: int) -> None:
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        Queue(QUEUE, connection=Redis.from_url(url)).enqueue(
            rq_entry, job_id, job_timeout=3600, description=f"certificates for job {job_id}"
        )
        return
    threading.Thread(
        target=_thread_entry, args=(app, job_id), name=f"issue-job-{job_id}", daemon=True
    ).start()


#: Session.info key: ids of jobs to dispatch once the session's transaction commits.
_AFTER_COMMIT = "learnhub.certificates.jobs"


def dispatch_after_commit(job: IssueJob) -> None:
    """Dispatch *job* once the current transaction has committed (and never if it rolls back):
    the worker must see the job and the rows it works on."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(job.id)


_QUEUED_CLASSES = _AFTER_COMMIT + ".classes"


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_QUEUED_CLASSES, None)
    for job_id in session.info.pop(_AFTER_COMMIT, []):
        try:
            _dispatch_id(job_id)
        except Exception:  # the job stays queued; the class page offers to resume it
            log.exception("could not dispatch certificate job %s", job_id)


@sa.event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
    session.info.pop(_QUEUED_CLASSES, None)


@signals.completion_recorded.connect
def _on_completion(completion, now: datetime, **_kw) -> None:
    """Automatic issue: queue a job for the class, to run once the transaction that recorded
    the completion has committed; one per class and transaction (a roll call completes many).
    Always a new job: one already under way may have listed its learners before this one."""
    training_class = completion.training_class
    if services.certificate_settings(training_class).get("issue") != "auto":
        return
    queued = db.session().info.setdefault(_QUEUED_CLASSES, set())
    if training_class.id in queued:
        return
    job = IssueJob(class_id=training_class.id, created_at=now)
    db.session.add(job)
    db.session.flush()
    record(AUTO, "certificate.job.start", "issue_job", job.id, after={"auto": True})
    queued.add(training_class.id)
    dispatch_after_commit(job)


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


def issue_one(actor: Actor, class_id: int, user_id: int) -> Certificate | None:
    """One learner's certificate, the unit of work of a job: the new certificate, or None
    when the learner holds one already or may get a new one only by an explicit re-issue.

    Call it inside services.issuing(), entered before the transaction begins; the caller
    commits."""
    training_class = db.session.get(TrainingClass, class_id)
    user = db.session.get(User, user_id)
    if services.latest_certificate(training_class, user) is not None:
        return None
    return services.issue(actor, training_class, user, utcnow())


@dataclass
class _InFlight:
    """A learner's draft certificate, its PDF being rendered with a predicted number."""

    cert: Certificate
    number: int
    pdf: "Future[bytes]"


def _count(job_id: int, issued: Certificate | None) -> None:
    db.write_transaction()
    job = db.session.get(IssueJob, job_id)
    if issued is not None:
        job.issued += 1
    else:
        job.skipped += 1  # issued meanwhile (another job, a trainer), or barred
    job.heartbeat_at = utcnow()


def _issue_pooled(
    job_id: int,
    requester_id: int | None,
    class_id: int,
    ids: list[int],
    renderers: pdf.RenderPool,
    progress: Callable[[int], None] | None,
) -> None:
    """run()'s loop with a pool of render processes: the next learners' drafts are rendered side
    by side with the register numbers they will most likely get (consecutive, from the counter),
    while each learner in turn, in order, takes the number under the counter's lock in a short
    transaction of its own (services.issue_drafted), as in the one-process loop. When a number
    was taken meanwhile (another issuer), that PDF is rendered again under the lock and the
    drafts under way are sent again with the numbers that now follow. A render that fails
    raises here, before that learner's transaction: the learners before have their
    certificates, this one and those after have none, and no number was used (as without a pool).
    """
    window: deque[_InFlight] = deque()
    todo = deque(ids)
    next_number = 0

    def submit(cert: Certificate, number: int) -> _InFlight:
        services.predict_number(cert, number)
        html = services.certificate_html(cert, cert.issuer)
        return _InFlight(cert, number, renderers.submit(html))

    while todo or window:
        # Keep every render process busy, and one more draft ready for each.
        while todo and len(window) < 2 * renderers.size:
            user_id = todo[0]
            training_class = db.session.get(TrainingClass, class_id)
            user = db.session.get(User, user_id)
            cert = None
            if services.latest_certificate(training_class, user) is None:
                requester = db.session.get(User, requester_id) if requester_id else None
                actor = Actor(requester, via="job")
                drafted = services.draft(actor, training_class, user, utcnow())
                cert = drafted if services.is_draft(drafted) else None
            if cert is None:
                if window:
                    break  # counted in learner order, after those under way
                todo.popleft()
                _count(job_id, None)
                db.session.commit()
                if progress is not None:
                    progress(1)
                continue
            todo.popleft()
            next_number = max(next_number, services.predicted_number(cert))
            window.append(submit(cert, next_number))
            next_number += 1
        db.session.commit()  # ends the reads: the wait below holds no connection
        if not window:
            continue
        head = window.popleft()
        rendered = head.pdf.result()  # RenderFailed / RenderTimeout: the job fails here
        with services.issuing():  # before this learner's transaction begins
            requester = db.session.get(User, requester_id) if requester_id else None
            issued = services.issue_drafted(Actor(requester, via="job"), head.cert, rendered)
            _count(job_id, issued)
            db.session.commit()
        if progress is not None:
            progress(1)
        if issued is not head.cert or issued.register_no != head.number:
            # The register moved under the predictions: send the drafts under way again.
            for entry in window:
                entry.pdf.cancel()
            drafts = [entry.cert for entry in window]
            window.clear()
            next_number = services.predicted_number(drafts[0]) if drafts else 0
            for cert in drafts:
                window.append(submit(cert, next_number))
                next_number += 1


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
    requester_id = job.requested_by_id
    class_id = job.class_id
    try:
        ids = list(
            db.session.scalars(
                services.pending(job.training_class).with_only_columns(Completion.user_id)
            )
        )
        job.total = max(job.total, job.done_count + len(ids))
        db.session.commit()
        size = min(pdf.workers(), len(ids))
        if size > 1:
            with pdf.RenderPool(size, pdf.timeout()) as renderers:
                _issue_pooled(job_id, requester_id, class_id, ids, renderers, progress)
            ids = []
        for user_id in ids:
            with services.issuing():  # before this learner's transaction begins
                requester = db.session.get(User, requester_id) if requester_id else None
                issued = issue_one(Actor(requester, via="job"), class_id, user_id)
                _count(job_id, issued)
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
