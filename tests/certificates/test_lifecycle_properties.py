"""The certificate lifecycle under random sequences of issue, revoke, re-issue, confirm, verify
and bulk issue (hypothesis, stateful). After every step: the issuer's register numbers are
gapless for the year; a learner holds at most one valid certificate of the class; a confirmation
is valid only while its certificate is (in Python and in SQL alike); nobody whose certificate
was revoked or superseded gets a new number except by an explicit re-issue. The verify step
reads /verify, the register page and the person page and checks they say the same.

The PDF renderer is replaced by a stub here (a few bytes that carry the number): what the PDF
prints is tested in test_pdf.py, and rendering would make each example slow."""

import re
import secrets
import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from learnhub import db
from learnhub.audit.services import Actor
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import (
    STATUS_LABELS,
    Certificate,
    Issuer,
    Kind,
    RevokeReason,
    Status,
)
from learnhub.timeutil import today, utcnow
from tests.certificates.conftest import complete, open_class

LEARNERS = 3
CELL = re.compile(r"<td>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")
HEADING = re.compile(r"<th scope=\"col\"[^>]*>(.*?)</th>", re.S)


def _label(state: str) -> str:
    return str(STATUS_LABELS[state])


def _get(client, url: str) -> str:
    ip = f"10.77.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    with client.get(url, environ_base={"REMOTE_ADDR": ip}) as response:
        assert response.status_code == 200, url
        return response.get_data(as_text=True)


def machine(client, admin, trainer, create_user, unit):
    class Lifecycle(RuleBasedStateMachine):
        """One class with its own issuer (a register that starts at 1) per example."""

        @initialize()
        def setup(self):
            tag = uuid.uuid4().hex[:6].upper()
            self.klass = open_class(trainer, f"PT-{tag}")
            issuer = Issuer(
                code=f"P{tag}",
                name="SỞ NỘI VỤ",
                place="Cà Mau",
                signer_title="GIÁM ĐỐC",
                signer_name="",
            )
            db.session.add(issuer)
            db.session.flush()
            self.klass.issuer_id = issuer.id
            self.issuer = issuer
            self.people = [
                create_user(full_name=f"Học Viên {tag} {i}", unit=unit("CM-SNV"))
                for i in range(LEARNERS)
            ]
            self.completed = set()
            self.actor = Actor(admin)

        # -- helpers --------------------------------------------------------------------------

        def entries(self) -> list[Certificate]:
            return list(
                db.session.scalars(
                    select(Certificate)
                    .where(Certificate.class_id == self.klass.id)
                    .order_by(Certificate.id)
                )
            )

        def last_number(self) -> int:
            return db.session.scalar(
                select(func.coalesce(func.max(Certificate.register_no), 0)).where(
                    Certificate.issuer_id == self.issuer.id
                )
            )

        def history_of(self, user) -> list[Certificate]:
            return [
                c for c in self.entries() if c.user_id == user.id and c.kind == Kind.certificate
            ]

        def pick(self, data, kind=None) -> Certificate | None:
            found = [c for c in self.entries() if kind is None or c.kind == kind]
            return data.draw(st.sampled_from(found)) if found else None

        # -- actions --------------------------------------------------------------------------

        @rule(i=st.integers(0, LEARNERS - 1))
        def complete(self, i):
            if i not in self.completed:
                complete(self.klass, self.people[i])
                self.completed.add(i)

        @rule(i=st.integers(0, LEARNERS - 1))
        def issue(self, i):
            user = self.people[i]
            history = self.history_of(user)
            valid = [c for c in history if c.status == Status.valid]
            before = self.last_number()
            barred = i not in self.completed or (history and not valid)
            try:
                cert = certificates.issue(self.actor, self.klass, user, utcnow())
            except certificates.CertificateError:
                assert barred
                assert self.last_number() == before
                return
            assert not barred
            if valid:
                assert cert.id == valid[0].id  # idempotent: the one held
                assert self.last_number() == before
            else:
                assert cert.register_no == before + 1

        @rule()
        def bulk_issue(self):
            fresh = {
                self.people[i].id for i in self.completed if not self.history_of(self.people[i])
            }
            before = {c.id for c in self.entries()}
            job = jobs.start(self.actor, self.klass, utcnow())
            if job.total:
                jobs.run(job.id)
            new = [c for c in self.entries() if c.id not in before]
            assert {c.user_id for c in new} == fresh  # never a revoked or superseded learner
            assert len(new) == len(fresh)

        @rule(data=st.data())
        def revoke(self, data):
            cert = self.pick(data)
            if cert is None:
                return
            status = cert.status
            try:
                certificates.revoke(self.actor, cert, RevokeReason.error, "", utcnow())
            except certificates.CertificateError:
                assert status == Status.superseded
                return
            assert cert.status == Status.revoked

        @rule(data=st.data())
        def reissue(self, data):
            cert = self.pick(data, Kind.certificate)
            if cert is None:
                return
            successor = db.session.scalar(
                select(Certificate).where(Certificate.supersedes_id == cert.id)
            )
            before = self.last_number()
            try:
                new = certificates.reissue(self.actor, cert, utcnow(), "Xét lại")
            except certificates.CertificateError:
                assert successor is None
                assert self.last_number() == before
                return
            if successor is not None:
                assert new.id == successor.id  # a second submit
                assert self.last_number() == before
            else:
                assert new.register_no == before + 1
                assert new.supersedes_id == cert.id
                assert cert.status in (Status.superseded, Status.revoked)

        @rule(data=st.data())
        def confirm(self, data):
            cert = self.pick(data, Kind.certificate)
            if cert is None:
                return
            held = db.session.scalar(
                select(Certificate).where(
                    Certificate.refers_to_id == cert.id, Certificate.status == Status.valid
                )
            )
            before = self.last_number()
            try:
                made = certificates.confirm_lost(self.actor, cert, utcnow())
            except certificates.CertificateError:
                assert held is None
                assert cert.status != Status.valid
                return
            if held is not None:
                assert made.id == held.id
                assert self.last_number() == before
            else:
                assert made.register_no == before + 1

        @precondition(lambda self: hasattr(self, "klass"))
        @rule(data=st.data())
        def verify(self, data):
            """/verify, the register page and the person page say the same of an entry."""
            cert = self.pick(data)
            if cert is None:
                return
            db.session.flush()
            expected = _label(cert.state(today()))
            page = _get(client, f"/verify/{cert.code}")
            shown = re.search(r"<dt>Tình trạng</dt><dd>(.*?)</dd>", page).group(1)
            assert shown == expected
            register = _get(
                client, f"/register/?issuer={self.issuer.id}&year={cert.year}&q={cert.serial}"
            )
            rows = [
                [TAG.sub("", cell).strip() for cell in CELL.findall(row)]
                for row in register.split("<tr>")[1:]
            ]
            (row,) = [r for r in rows if r and r[0] == cert.number_label]
            headings = [TAG.sub("", h).strip() for h in HEADING.findall(register)]
            assert row[headings.index("Tình trạng")].startswith(expected)
            person = _get(client, f"/reports/people/{cert.user_id}")
            assert f"{cert.number_label} ({expected})" in person

        # -- invariants -----------------------------------------------------------------------

        @invariant()
        def register_numbers_are_gapless(self):
            if not hasattr(self, "issuer"):
                return
            numbers = sorted(
                db.session.scalars(
                    select(Certificate.register_no).where(
                        Certificate.issuer_id == self.issuer.id,
                        Certificate.year == today().year,
                    )
                )
            )
            assert numbers == list(range(1, len(numbers) + 1))

        @invariant()
        def one_valid_certificate_per_learner(self):
            if not hasattr(self, "klass"):
                return
            for user in self.people:
                valid = [c for c in self.history_of(user) if c.status == Status.valid]
                assert len(valid) <= 1

        @invariant()
        def confirmations_follow_their_certificate(self):
            if not hasattr(self, "klass"):
                return
            db.session.flush()
            in_sql = dict(
                db.session.execute(
                    select(Certificate.id, Certificate.effective_status).where(
                        Certificate.class_id == self.klass.id
                    )
                ).all()
            )
            for cert in self.entries():
                assert in_sql[cert.id] == cert.effective_status
                if cert.kind == Kind.confirmation:
                    assert cert.refers_to is not None
                    if cert.effective_status == Status.valid:
                        assert cert.refers_to.status == Status.valid
                        assert cert.status == Status.valid

    return Lifecycle


def test_lifecycle_invariants_hold_for_random_sequences(
    client, login, admin, trainer, create_user, unit, monkeypatch
):
    monkeypatch.setattr(
        certificates,
        "render_pdf",
        lambda cert, issuer: f"%PDF stub {cert.number_label} {cert.code}".encode(),
    )
    login(admin)
    run_state_machine_as_test(
        machine(client, admin, trainer, create_user, unit),
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
