"""Who may do what to which object: the one home of LearnHub's object-level access rules.

Each rule is written once and answered two ways where lists need it: as a Python check on one
object (``may_*``) and as an SQL condition for the rows an actor may see (``*_filter`` /
``*_ids``). Views, exports, the CLI and the API call these; the ``can_*`` helpers of
certificates and reports are thin calls into them. docs/access.md says the same rules in words.

"In scope" has one meaning: the units a role's grants name, each with its subtree and the units
merged into it (orgunits.services.rollup_ids); a role granted without a unit covers every unit,
and admins cover everything. ``_grant_units`` is the only place that reads the grants.

It imports models (and the unit tree's rollup), never a domain's services, views or forms. In the
package layers (docs/architecture.md) it sits beside certificates: the packages below never
import it, their views and commands ask it.
"""

import logging
from datetime import datetime
from typing import NoReturn

from flask import abort, has_request_context, request
from sqlalchemy import ColumnElement, Select, false, or_, select, true, union

from learnhub import db
from learnhub.accounts.models import Role, User
from learnhub.api.models import ApiToken
from learnhub.catalog.models import Module
from learnhub.certificates.models import Certificate
from learnhub.classes import feedback
from learnhub.classes.models import Enrolment, TrainingClass, class_trainers
from learnhub.orgunits.models import OrgUnit
from learnhub.orgunits.services import rollup_ids
from learnhub.quizzes.models import Attempt

#: Object-level denials go to this logger at WARNING (not to the audit table: a scraper
#: guessing ids would flood it); see docs/access.md.
log = logging.getLogger("learnhub.access")


def _signed_in(user: User | None) -> bool:
    return user is not None and user.is_authenticated


# -- scope: which units a role covers --------------------------------------------------------


def _grant_units(user: User, role: Role) -> list[OrgUnit] | None:
    """The units *role*'s grants name; None: every unit; []: no such role."""
    return user.scope_units(role)


def unit_ids(user: User, role: Role = Role.hr) -> Select | None:
    """SELECT of the ids of the units *role* lets *user* act on (subtrees plus merged units);
    None means every unit (admins; the role granted for every unit)."""
    if user.is_admin:
        return None
    scope = _grant_units(user, role)
    if scope is None:
        return None
    if not scope:
        return select(OrgUnit.id).where(false())
    return union(*(rollup_ids(unit) for unit in scope)) if len(scope) > 1 else rollup_ids(scope[0])


def unit_id_set(user: User, role: Role = Role.hr) -> set[int] | None:
    """unit_ids as a set (None: every unit)."""
    ids = unit_ids(user, role)
    return None if ids is None else set(db.session.scalars(ids))


def unit_in_scope(user: User, role: Role, unit: OrgUnit | None) -> bool:
    """Whether *role* lets *user* act on *unit* (admins: always)."""
    if user.is_admin:
        return True
    if not user.has_role(role):
        return False
    scope = _grant_units(user, role)
    if scope is None:
        return True
    if unit is None:
        return False
    if any(s.contains(unit) for s in scope):  # the common case, without a query
        return True
    return unit.id in (unit_id_set(user, role) or set())


def people_ids(user: User, role: Role = Role.hr) -> Select | None:
    """SELECT of the ids of the people *role* lets *user* see; None means everyone."""
    ids = unit_ids(user, role)
    if ids is None:
        return None
    return select(User.id).where(User.unit_id.in_(ids.scalar_subquery()))


def person_in_scope(viewer: User, person: User, role: Role = Role.hr) -> bool:
    """Whether *person* is in *viewer*'s scope for *role* (admins: everyone)."""
    if viewer.is_admin:
        return True
    if not viewer.has_role(role):
        return False
    if person.unit_id is None:  # a person of no unit is in the scope of every unit only
        return _grant_units(viewer, role) is None
    return unit_in_scope(viewer, role, person.unit)


# -- people ----------------------------------------------------------------------------------


def may_see_person(viewer: User | None, person: User) -> bool:
    """A person's pages (training history, its PDF): the person, admins, HR in scope."""
    if not _signed_in(viewer):
        return False
    if viewer.id == person.id or viewer.is_admin:
        return True
    return viewer.has_role(Role.hr) and person_in_scope(viewer, person, Role.hr)


def people_filter(viewer: User | None, user_id: ColumnElement) -> ColumnElement:
    """SQL twin of may_see_person over a column of user ids (reports, search, API)."""
    if not _signed_in(viewer):
        return false()
    if viewer.is_admin:
        return true()
    own = user_id == viewer.id
    if not viewer.has_role(Role.hr):
        return own
    people = people_ids(viewer, Role.hr)
    return true() if people is None else or_(own, user_id.in_(people))


def may_see_birth_date(viewer: User | None, person: User) -> bool:
    """Dates of birth: only where the person's own pages may be seen (not trainers as such)."""
    return may_see_person(viewer, person)


def birth_date_filter(viewer: User | None, user_id: ColumnElement) -> ColumnElement:
    """SQL twin of may_see_birth_date."""
    return people_filter(viewer, user_id)


# -- modules ---------------------------------------------------------------------------------


def may_edit_module(user: User | None, module: Module) -> bool:
    """Admins; the owner (a trainer); trainers whose unit scope covers the module's unit."""
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    if not user.has_role(Role.trainer):
        return False
    if module.owner_id == user.id:
        return True
    return unit_in_scope(user, Role.trainer, module.unit)


def editable_module_ids(user: User) -> Select | None:
    """SQL twin of may_edit_module: ids of the modules *user* may edit; None: every module."""
    if user.is_admin:
        return None
    if not user.has_role(Role.trainer):
        return select(Module.id).where(false())
    units = unit_ids(user, Role.trainer)
    if units is None:
        return None
    return select(Module.id).where(
        or_(Module.owner_id == user.id, Module.unit_id.in_(units.scalar_subquery()))
    )


def may_see_module(user: User | None, module: Module) -> bool:
    """A module's learner pages: once published, every signed-in user; before, its editors."""
    return module.published_version_id is not None or may_edit_module(user, module)


# -- classes ---------------------------------------------------------------------------------


def may_manage_class(user: User | None, training_class: TrainingClass) -> bool:
    """Run a class (roster, sessions, attendance, its documents): admins, its trainers,
    trainers who may edit its module."""
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    if not user.has_role(Role.trainer):
        return False
    if any(t.id == user.id for t in training_class.trainers):
        return True
    return may_edit_module(user, training_class.module)


def managed_class_ids(user: User) -> Select | None:
    """SQL twin of may_manage_class: ids of the classes *user* runs; None: every class."""
    if user.is_admin:
        return None
    if not user.has_role(Role.trainer):
        return select(TrainingClass.id).where(false())
    modules = editable_module_ids(user)
    if modules is None:
        return None
    own = select(class_trainers.c.class_id).where(class_trainers.c.user_id == user.id)
    return select(TrainingClass.id).where(
        or_(TrainingClass.id.in_(own), TrainingClass.module_id.in_(modules))
    )


def is_enrolled(user: User, training_class: TrainingClass) -> bool:
    stmt = select(Enrolment.id).where(
        Enrolment.class_id == training_class.id, Enrolment.user_id == user.id
    )
    return db.session.scalar(stmt) is not None


def may_see_class(user: User | None, training_class: TrainingClass) -> bool:
    """A class's learner page: its learners and those who run it."""
    if not _signed_in(user):
        return False
    return is_enrolled(user, training_class) or may_manage_class(user, training_class)


def class_learner_ids(user: User, training_class: TrainingClass) -> Select | None:
    """The learners of a class whose names and results *user* sees on the class's pages (the
    certificate review, the ZIP): everyone for those who run the class; for an HR officer only
    the people in their scope (finding 5 of issue 13). None means every learner."""
    if may_manage_class(user, training_class):
        return None
    return people_ids(user, Role.hr)


def may_give_feedback(user: User | None, training_class: TrainingClass, now: datetime) -> bool:
    """Evaluate a class (phiếu đánh giá): a learner on its roster, once it may be evaluated
    (classes.feedback.is_open); answering twice is refused by the service."""
    if not _signed_in(user):
        return False
    return feedback.on_roster(user, training_class) and feedback.is_open(training_class, now)


def may_see_feedback(user: User | None, training_class: TrainingClass) -> bool:
    """A class's evaluation summary (anonymous, classes.feedback.summary): those who run the
    class and the HR officers who may download its dossier."""
    return may_download_dossier(user, training_class)


def may_download_dossier(user: User | None, training_class: TrainingClass) -> bool:
    """A class's dossier (every learner, dates of birth included): those who run the class and
    HR officers of every unit (a scoped officer would see people outside their scope)."""
    if not _signed_in(user):
        return False
    if may_manage_class(user, training_class):
        return True
    return user.has_role(Role.hr) and _grant_units(user, Role.hr) is None


# -- attempts --------------------------------------------------------------------------------


def may_take_attempt(user: User | None, attempt: Attempt) -> bool:
    """Answer, submit and review an attempt: only the learner who started it."""
    return _signed_in(user) and attempt.user_id == user.id


def may_grade_attempt(user: User | None, attempt: Attempt) -> bool:
    """Grade an attempt's essays: whoever may edit the quiz's module."""
    return may_edit_module(user, attempt.quiz.module)


# -- certificates ----------------------------------------------------------------------------


def may_manage_certificates(
    user: User | None, training_class: TrainingClass, issuer_unit: OrgUnit | None
) -> bool:
    """Issue, revoke and re-issue a class's certificates: those who run the class, HR whose
    scope covers the issuing unit (the issuer's unit is given: the issuer is a certificates
    rule)."""
    if not _signed_in(user):
        return False
    if may_manage_class(user, training_class):
        return True
    return user.has_role(Role.hr) and unit_in_scope(user, Role.hr, issuer_unit)


def may_see_certificate(user: User | None, cert: Certificate) -> bool:
    """The holder; whoever runs the class; HR whose scope covers the holder."""
    if not _signed_in(user):
        return False
    if user.id == cert.user_id or user.is_admin:
        return True
    if may_manage_class(user, cert.training_class):
        return True
    return user.has_role(Role.hr) and person_in_scope(user, cert.user, Role.hr)


def certificate_filter(user: User) -> ColumnElement:
    """SQL twin of may_see_certificate (the register, lists, the API)."""
    if user.is_admin:
        return true()
    clauses = [Certificate.user_id == user.id]
    if user.has_role(Role.hr):
        people = people_ids(user, Role.hr)
        if people is None:
            return true()
        clauses.append(Certificate.user_id.in_(people))
    if user.has_role(Role.trainer):
        managed = managed_class_ids(user)
        if managed is None:
            return true()
        clauses.append(Certificate.class_id.in_(managed))
    return or_(*clauses)


# -- reports and tokens ----------------------------------------------------------------------


def may_see_unit_reports(user: User | None) -> bool:
    """The unit report, completion records and the API: HR officers and admins."""
    return _signed_in(user) and (user.is_admin or user.has_role(Role.hr))


def may_use_token(user: User, token: ApiToken) -> bool:
    """See or revoke an API token: only its owner."""
    return token.user_id == user.id


# -- refusing --------------------------------------------------------------------------------


def deny(kind: str, object_id: object, user: User | None = None, status: int = 404) -> NoReturn:
    """Refuse access to one object: log who asked for what where, then answer *status* (404 by
    default: the existence of someone else's object is not disclosed)."""
    actor = getattr(user, "id", None) if _signed_in(user) else None
    route = f"{request.method} {request.path}" if has_request_context() else "-"
    log.warning(
        "access denied: actor=%s route=%s object=%s:%s status=%s",
        actor if actor is not None else "anonymous",
        route,
        kind,
        object_id,
        status,
        extra={"actor": actor, "route": route, "object": f"{kind}:{object_id}"},
    )
    abort(status)


def require(allowed: bool, kind: str, object_id: object, user: User | None, status: int = 404):
    """deny() unless *allowed*."""
    if not allowed:
        deny(kind, object_id, user, status)
