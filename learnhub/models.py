"""Every model, imported so that Base.metadata is complete for Alembic and create_all."""

from learnhub.accounts.models import LoginThrottle, RoleGrant, User
from learnhub.api.models import ApiToken
from learnhub.attendance.models import AttendanceRecord, Completion
from learnhub.audit.models import AuditEvent
from learnhub.catalog.models import Lesson, LessonProgress, Module, ModuleVersion, StoredAsset
from learnhub.certificates.models import (
    Certificate,
    IssueJob,
    Issuer,
    RegisterCounter,
)
from learnhub.classes.models import ClassSession, Enrolment, TrainingClass
from learnhub.orgunits.models import OrgUnit
from learnhub.quizzes.models import Attempt, AttemptItem, Question, Quiz, QuizOverride
from learnhub.ratelimit import RateWindow
from learnhub.reports.summary import UnitFigures, UnitPerson

__all__ = [
    "ApiToken",
    "Attempt",
    "AttemptItem",
    "AttendanceRecord",
    "AuditEvent",
    "Certificate",
    "ClassSession",
    "Completion",
    "Enrolment",
    "IssueJob",
    "Issuer",
    "Lesson",
    "LessonProgress",
    "LoginThrottle",
    "Module",
    "ModuleVersion",
    "OrgUnit",
    "Question",
    "Quiz",
    "QuizOverride",
    "RateWindow",
    "RegisterCounter",
    "RoleGrant",
    "StoredAsset",
    "TrainingClass",
    "UnitFigures",
    "UnitPerson",
    "User",
]
