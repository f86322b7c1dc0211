"""The audit log in words: ONE mapping from action code to a sentence, field labels for the
before/after diff, action groups for the filter, and the names of the people and objects events
refer to (loaded for a whole page at once: a handful of queries, never one per row)."""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, String, cast, or_, select

from learnhub import db
from learnhub.accounts.models import ROLE_LABELS, User
from learnhub.accounts.services import search_users
from learnhub.attendance.models import METHOD_LABELS
from learnhub.attendance.models import STATUS_LABELS as ATTENDANCE_LABELS
from learnhub.audit.models import AuditEvent
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.certificates.models import REVOKE_LABELS, Certificate, IssueJob, Issuer
from learnhub.certificates.models import STATUS_LABELS as CERT_LABELS
from learnhub.classes.models import ClassSession, TrainingClass
from learnhub.orgunits.models import KIND_LABELS as UNIT_KINDS
from learnhub.orgunits.models import OrgUnit
from learnhub.quizzes.models import Attempt, Quiz
from learnhub.timeutil import format_date

#: Action groups, in the order the filter offers them.
GROUPS = {
    "auth": _l("Đăng nhập"),
    "account": _l("Tài khoản"),
    "class": _l("Lớp học"),
    "attendance": _l("Điểm danh"),
    "grades": _l("Điểm số"),
    "certificate": _l("Giấy chứng nhận"),
    "content": _l("Chuyên đề và câu hỏi"),
    "unit": _l("Đơn vị"),
    "api": _l("Khóa truy cập API"),
}


@dataclass(frozen=True)
class ActionText:
    group: str
    #: A sentence with named placeholders: object, person, number, count, name, by, reason,
    #: session, status (a missing value reads as empty).
    sentence: Any


#: Every action code the application records (tests/audit/test_readable_log.py checks that no
#: audit.record(...) call in learnhub/ names a code missing here).
ACTIONS: dict[str, ActionText] = {
    # signing in
    "auth.login": ActionText("auth", _l("Đăng nhập")),
    "auth.login_failed": ActionText(
        "auth", _l("Đăng nhập không thành công (tên đã gõ: %(object)s)")
    ),
    "auth.reauth": ActionText("auth", _l("Nhập lại mật khẩu để xác nhận")),
    "auth.reauth_failed": ActionText("auth", _l("Nhập lại mật khẩu không đúng")),
    "auth.two_factor": ActionText("auth", _l("Đăng nhập bước hai bằng mã xác thực")),
    "auth.recovery_code": ActionText("auth", _l("Đăng nhập bước hai bằng mã dự phòng")),
    "auth.two_factor_failed": ActionText("auth", _l("Mã xác thực bước hai không đúng")),
    # accounts
    "user.create": ActionText("account", _l("Tạo tài khoản cho %(object)s")),
    "user.update": ActionText("account", _l("Sửa thông tin tài khoản của %(object)s")),
    "user.roles": ActionText("account", _l("Đổi vai trò của %(object)s")),
    "user.enable": ActionText("account", _l("Mở khóa tài khoản của %(object)s")),
    "user.disable": ActionText("account", _l("Khóa tài khoản của %(object)s")),
    "user.password_reset": ActionText("account", _l("Đặt mật khẩu tạm thời cho %(object)s")),
    "user.password_change": ActionText("account", _l("Đổi mật khẩu của %(object)s")),
    "user.sessions_ended": ActionText("account", _l("Đăng xuất mọi phiên của %(object)s")),
    "user.two_factor_start": ActionText(
        "account", _l("Bắt đầu cài xác thực hai bước cho %(object)s")
    ),
    "user.two_factor_enabled": ActionText("account", _l("Bật xác thực hai bước cho %(object)s")),
    "user.two_factor_disabled": ActionText("account", _l("Tắt xác thực hai bước của %(object)s")),
    "user.two_factor_reset": ActionText(
        "account", _l("Gỡ xác thực hai bước của %(object)s (mất điện thoại)")
    ),
    "users.import": ActionText(
        "account",
        _l("Nhập danh sách tài khoản: %(created)s tài khoản mới, %(updated)s cập nhật"),
    ),
    "api_token.create": ActionText("api", _l("Tạo khóa truy cập API “%(name)s”")),
    "api_token.revoke": ActionText("api", _l("Thu hồi khóa truy cập API “%(name)s”")),
    # classes
    "class.open": ActionText("class", _l("Mở %(object)s")),
    "class.update": ActionText("class", _l("Sửa thông tin %(object)s")),
    "class.enrol": ActionText("class", _l("Ghi danh %(count)s học viên vào %(object)s")),
    "class.withdraw": ActionText("class", _l("Rút %(person)s khỏi %(object)s")),
    "class.sessions": ActionText("class", _l("Thêm %(count)s buổi học cho %(object)s")),
    "class.session.move": ActionText("class", _l("Dời buổi %(session)s của %(object)s")),
    "class.session.cancel": ActionText("class", _l("Hủy buổi %(session)s của %(object)s")),
    # attendance
    "attendance.record": ActionText(
        "attendance", _l("Điểm danh %(person)s buổi %(session)s của %(object)s: %(status)s")
    ),
    "attendance.checkin_failed": ActionText(
        "attendance", _l("Điểm danh sai mã (%(reason)s) %(object)s")
    ),
    # grades
    "attempt.grade": ActionText("grades", _l("Chấm bài kiểm tra %(object)s của %(person)s")),
    "attempt.regrade": ActionText("grades", _l("Chấm lại bài kiểm tra %(object)s của %(person)s")),
    "quiz.override": ActionText(
        "grades", _l("Cho %(person)s thêm thời gian hoặc lượt làm bài kiểm tra %(object)s")
    ),
    # content
    "module.sync": ActionText("content", _l("Nạp chuyên đề %(object)s từ tệp")),
    "module.edit": ActionText("content", _l("Sửa chuyên đề %(object)s")),
    "module.publish": ActionText("content", _l("Công bố chuyên đề %(object)s")),
    "module.restore": ActionText(
        "content", _l("Khôi phục một phiên bản cũ của chuyên đề %(object)s")
    ),
    "module.unpublish": ActionText("content", _l("Ngừng công bố chuyên đề %(object)s")),
    "questions.import": ActionText(
        "content", _l("Nhập %(count)s câu hỏi vào chuyên đề %(object)s")
    ),
    "question.create": ActionText("content", _l("Thêm câu hỏi %(object)s")),
    "question.update": ActionText("content", _l("Sửa câu hỏi %(object)s")),
    # certificates
    "certificate.issue": ActionText(
        "certificate", _l("Cấp giấy chứng nhận %(number)s cho %(person)s")
    ),
    "certificate.revoke": ActionText(
        "certificate", _l("Thu hồi giấy chứng nhận %(object)s (%(reason)s)")
    ),
    "certificate.reissue": ActionText(
        "certificate", _l("Cấp lại giấy chứng nhận %(object)s bằng giấy %(by)s")
    ),
    "certificate.supersede": ActionText(
        "certificate", _l("Thay thế giấy chứng nhận %(object)s bằng giấy %(by)s")
    ),
    "certificate.job.start": ActionText(
        "certificate", _l("Bắt đầu cấp giấy chứng nhận cho %(object)s")
    ),
    "issuer.save": ActionText("certificate", _l("Sửa thông tin đơn vị cấp giấy %(object)s")),
    # units
    "unit.create": ActionText("unit", _l("Thêm đơn vị %(object)s")),
    "unit.update": ActionText("unit", _l("Sửa đơn vị %(object)s")),
}

#: Before/after keys in words.
FIELD_LABELS = {
    "full_name": _l("Họ và tên"),
    "username": _l("Tên đăng nhập"),
    "email": _l("Email"),
    "birth_date": _l("Ngày sinh"),
    "sex": _l("Giới tính"),
    "position": _l("Chức vụ"),
    "rank": _l("Ngạch"),
    "unit": _l("Đơn vị"),
    "is_enabled": _l("Đang hoạt động"),
    "roles": _l("Vai trò"),
    "enrolled": _l("Đang học"),
    "code": _l("Mã"),
    "name": _l("Tên"),
    "kind": _l("Loại"),
    "parent": _l("Đơn vị cấp trên"),
    "valid_from": _l("Hiệu lực từ"),
    "valid_to": _l("Hiệu lực đến"),
    "successor": _l("Đơn vị kế thừa"),
    "former_district": _l("Huyện cũ"),
    "note": _l("Ghi chú"),
    "title": _l("Tên"),
    "place": _l("Địa điểm"),
    "organisers": _l("Đơn vị tổ chức"),
    "capacity": _l("Sĩ số tối đa"),
    "status": _l("Tình trạng"),
    "method": _l("Cách ghi"),
    "session": _l("Buổi"),
    "number": _l("Số vào sổ"),
    "on": _l("Ngày"),
    "starts_at": _l("Bắt đầu"),
    "ends_at": _l("Kết thúc"),
    "periods": _l("Số tiết"),
    "topic": _l("Nội dung"),
    "records": _l("Số bản ghi điểm danh"),
    "version": _l("Phiên bản"),
    "hash": _l("Mã nội dung"),
    "module": _l("Chuyên đề"),
    "added": _l("Thêm"),
    "unchanged": _l("Không đổi"),
    "created": _l("Tạo mới"),
    "updated": _l("Cập nhật"),
    "source": _l("Nguồn"),
    "text": _l("Nội dung câu hỏi"),
    "mark": _l("Điểm chấm"),
    "score": _l("Điểm"),
    "user": _l("Người"),
    "user_id": _l("Người"),
    "extra_minutes": _l("Thêm phút"),
    "extra_attempts": _l("Thêm lượt"),
    "reason": _l("Lý do"),
    "by": _l("Giấy thay thế"),
    "supersedes": _l("Thay thế giấy"),
    "refers_to": _l("Xác nhận cho giấy"),
    "prefix": _l("Tiền tố khóa"),
    "expires_on": _l("Hết hạn"),
    "revoked_at": _l("Thu hồi lúc"),
    "total": _l("Số giấy cần cấp"),
    "auto": _l("Tự động"),
}

#: Why a check-in was refused (attendance.checkin_failed), in words.
CHECKIN_REASONS = {
    "invalid": _l("mã không hợp lệ"),
    "invalid-code": _l("mã không đúng"),
    "expired": _l("mã QR đã hết hạn"),
    "not-yet": _l("mã QR chưa có hiệu lực"),
    "other-class": _l("không có tên trong lớp"),
    "already": _l("đã điểm danh rồi"),
    "refused": _l("bị từ chối"),
    "not-open": _l("chưa mở điểm danh"),
    "closed": _l("đã hết giờ điểm danh"),
}

#: How a change was made (AuditEvent.via), in words.
VIA_LABELS = {
    "web": _l("trên web"),
    "cli": _l("dòng lệnh"),
    "job": _l("tác vụ nền"),
    "auto": _l("tự động"),
    "demo": _l("dữ liệu mẫu"),
    "import": _l("nhập tệp"),
}

#: Kinds of certificate (the "kind" of certificate.issue).
CERT_KINDS = {"certificate": _l("Giấy chứng nhận"), "confirmation": _l("Giấy xác nhận hoàn thành")}

_PERSON_KEYS = ("user", "user_id")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def group_codes(group: str) -> list[str]:
    """The action codes of one group of the filter."""
    return [code for code, text in ACTIONS.items() if text.group == group]


def person_filter(text: str) -> ColumnElement:
    """Events by or about a person whose name, login or e-mail holds every word of *text*,
    ignoring accents and case (the people search of accounts.services.search_users)."""
    people = search_users(text).with_only_columns(User.id).order_by(None)
    return or_(
        AuditEvent.actor_id.in_(people),
        (AuditEvent.object_type == "user")
        & AuditEvent.object_id.in_(select(cast(User.id, String)).where(User.id.in_(people))),
    )


# -- names for a page of events -----------------------------------------------------------------


@dataclass
class Names:
    """Names of the people and objects a page of events refers to."""

    people: dict[int, str]
    objects: dict[tuple[str, str], str]

    def actor(self, event: AuditEvent) -> str:
        return self.person(event.actor_id) if event.actor_id is not None else _("Hệ thống")

    def person(self, user_id: object) -> str:
        try:
            return self.people.get(int(user_id), _("tài khoản số %(n)s", n=user_id))
        except (TypeError, ValueError):
            return ""


def _ints(values) -> set[int]:
    out = set()
    for value in values:
        try:
            out.add(int(value))
        except (TypeError, ValueError):
            continue
    return out


def _class_name(title: str, code: str) -> str:
    """A class as sentences name it: its title, with the word "lớp" when the title lacks it."""
    named = title if title.casefold().startswith("lớp") else _("lớp %(c)s", c=title)
    return f"{named} ({code})"


def _title(meta: dict | None) -> str:
    return str((meta or {}).get("title", ""))


def load_names(events: list[AuditEvent]) -> Names:
    """One query per kind of object present on the page (people, certificates, classes…)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    person_ids: set[int] = set()
    for event in events:
        wanted[event.object_type].add(event.object_id)
        if event.actor_id is not None:
            person_ids.add(event.actor_id)
        for values in (event.before or {}, event.after or {}):
            person_ids |= _ints(values.get(k) for k in _PERSON_KEYS)
        if event.object_type == "attendance":
            person_ids |= _ints([event.object_id.partition(":")[2]])
    objects: dict[tuple[str, str], str] = {}
    attempt_users: dict[str, int] = {}
    if wanted["attempt"]:
        rows = db.session.execute(
            select(Attempt.id, Attempt.user_id, ModuleVersion.meta)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .join(Module, Module.id == Quiz.module_id)
            .outerjoin(ModuleVersion, ModuleVersion.id == Module.published_version_id)
            .where(Attempt.id.in_(_ints(wanted["attempt"])))
        )
        for attempt_id, user_id, meta in rows:
            attempt_users[str(attempt_id)] = user_id
            objects["attempt", str(attempt_id)] = _title(meta)
        person_ids |= set(attempt_users.values())
    holders: dict[str, int] = {}
    if wanted["certificate"]:
        for cert_id, label, user_id in db.session.execute(
            select(Certificate.id, Certificate.number_label, Certificate.user_id).where(
                Certificate.id.in_(_ints(wanted["certificate"]))
            )
        ):
            objects["certificate", str(cert_id)] = label
            holders[str(cert_id)] = user_id
        person_ids |= set(holders.values())
    if wanted["attendance"]:
        session_ids = _ints(o.partition(":")[0] for o in wanted["attendance"])
        for session_id, code, title in db.session.execute(
            select(ClassSession.id, TrainingClass.code, TrainingClass.title)
            .join(TrainingClass, TrainingClass.id == ClassSession.class_id)
            .where(ClassSession.id.in_(session_ids))
        ):
            objects["attendance-class", str(session_id)] = _class_name(title, code)
    person_ids |= _ints(wanted["user"])
    people = {}
    if person_ids:
        people = dict(
            db.session.execute(select(User.id, User.full_name).where(User.id.in_(person_ids))).all()
        )
    for object_id in wanted["user"]:
        objects["user", object_id] = people.get(int(object_id), "") if object_id.isdigit() else ""
    if wanted["class"] or wanted["issue_job"]:
        codes = wanted["class"]
        for class_id, code, title in db.session.execute(
            select(TrainingClass.id, TrainingClass.code, TrainingClass.title).where(
                or_(TrainingClass.code.in_(codes), TrainingClass.id.in_(_ints(codes)))
            )
        ):
            objects["class", code] = objects["class", str(class_id)] = _class_name(title, code)
        if wanted["issue_job"]:
            for job_id, code, title in db.session.execute(
                select(IssueJob.id, TrainingClass.code, TrainingClass.title)
                .join(TrainingClass, TrainingClass.id == IssueJob.class_id)
                .where(IssueJob.id.in_(_ints(wanted["issue_job"])))
            ):
                objects["issue_job", str(job_id)] = _class_name(title, code)
    if wanted["unit"]:
        for code, name in db.session.execute(
            select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(wanted["unit"]))
        ):
            objects["unit", code] = name
    if wanted["module"]:
        for slug, meta in db.session.execute(
            select(Module.slug, ModuleVersion.meta)
            .outerjoin(ModuleVersion, ModuleVersion.id == Module.published_version_id)
            .where(Module.slug.in_(wanted["module"]))
        ):
            objects["module", slug] = _title(meta) or slug
    if wanted["quiz"]:
        for quiz_id, meta in db.session.execute(
            select(Quiz.id, ModuleVersion.meta)
            .join(Module, Module.id == Quiz.module_id)
            .outerjoin(ModuleVersion, ModuleVersion.id == Module.published_version_id)
            .where(Quiz.id.in_(_ints(wanted["quiz"])))
        ):
            objects["quiz", str(quiz_id)] = _title(meta)
    if wanted["issuer"]:
        for code, name in db.session.execute(
            select(Issuer.code, Issuer.name).where(Issuer.code.in_(wanted["issuer"]))
        ):
            objects["issuer", code] = name
    for object_id, user_id in attempt_users.items():
        objects["attempt-person", object_id] = people.get(user_id, "")
    for object_id, user_id in holders.items():
        objects["certificate-holder", object_id] = people.get(user_id, "")
    return Names(people, objects)


# -- one event in words ---------------------------------------------------------------------


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _object_name(event: AuditEvent, names: Names) -> str:
    kind, object_id = event.object_type, event.object_id
    if kind == "login":
        return object_id
    if kind in ("checkin", "roster"):
        return ""
    if kind == "attendance":
        return names.objects.get(("attendance-class", object_id.partition(":")[0]), "")
    if kind == "question":
        return _("số %(n)s", n=object_id)
    return names.objects.get((kind, object_id)) or object_id


def sentence(event: AuditEvent, names: Names) -> str:
    """What happened, in one sentence of the current language."""
    text = ACTIONS.get(event.action)
    if text is None:
        return event.action  # an unknown code (an older release's) stays visible as it is
    before, after = event.before or {}, event.after or {}
    values = _Values(object=_object_name(event, names))
    person_id = after.get("user_id", after.get("user", before.get("user")))
    if event.object_type == "attendance":
        person_id = event.object_id.partition(":")[2]
    if person_id is not None:
        values["person"] = names.person(person_id)
    if event.object_type == "attempt":
        values["person"] = names.objects.get(("attempt-person", event.object_id), "")
    if event.object_type == "certificate" and "person" not in values:
        values["person"] = names.objects.get(("certificate-holder", event.object_id), "")
    values["number"] = after.get("number") or values["object"]
    added = after.get("added")
    values["count"] = len(added) if isinstance(added, list) else (added or 0)
    values["created"], values["updated"] = after.get("created", 0), after.get("updated", 0)
    values["name"] = after.get("name", "")
    values["by"] = after.get("by", "")
    values["session"] = after.get("session") or before.get("number") or ""
    status = after.get("status")
    values["status"] = str(ATTENDANCE_LABELS.get(status, status or ""))
    reason = after.get("reason") or ""
    if event.action == "attendance.checkin_failed":
        reason = CHECKIN_REASONS.get(reason, reason)
    elif event.action == "certificate.revoke":
        reason = _label(REVOKE_LABELS, reason)
    values["reason"] = str(reason)
    return " ".join((str(text.sentence) % values).split())


def _label(labels: dict, value: Any) -> str:
    for key, label in labels.items():
        if str(key) == str(value):
            return str(label)
    return str(value)


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _value(key: str, value: Any, names: Names) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if key in _PERSON_KEYS:
        return names.person(value)
    if isinstance(value, list):
        return ", ".join(_value(key, v, names) for v in value) or "—"
    if key == "roles":
        role, _sep, unit = str(value).partition("@")
        label = _label(ROLE_LABELS, role)
        return label if unit in ("", "*") else f"{label} ({unit})"
    if key == "kind":
        return _label({**UNIT_KINDS, **CERT_KINDS}, value)
    if key == "status":
        text = _label(ATTENDANCE_LABELS, value)
        return _label(CERT_LABELS, text)
    if key == "method":
        return _label(METHOD_LABELS, value)
    if isinstance(value, str) and _ISO_DAY.fullmatch(value[:10]) and len(value) in (10, 19, 26):
        try:
            return format_date(date.fromisoformat(value[:10])) + value[10:].replace("T", " ")[:6]
        except ValueError:
            return value
    return str(value)


def changes(event: AuditEvent, names: Names) -> list[Change]:
    """The before/after values as readable rows: label, old value, new value."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    rows = []
    for key in keys:
        label = str(FIELD_LABELS.get(key, key))
        old = _value(key, before.get(key), names) if key in before else ""
        new = _value(key, after.get(key), names) if key in after else ""
        rows.append(Change(label, old, new))
    return rows
