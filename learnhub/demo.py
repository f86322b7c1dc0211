"""Demo accounts for a development instance (`flask demo`)."""

from learnhub import db
from learnhub.accounts import services
from learnhub.accounts.models import Role
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.orgunits import services as units

#: login, full name, roles, unit code, password. Shown in README; development only.
DEMO_USERS = [
    ("admin", "Quản Trị Viên", [Role.admin], "CM-SNV", "demo-quantri-2026"),
    ("giangvien", "Trần Hồng Quân", [Role.trainer, Role.learner], "CM-LHHN", "demo-giangvien-2026"),
    ("tochuc", "Lê Thị Thu Hà", [Role.hr, Role.learner], "CM-SNV", "demo-tochuc-2026"),
    ("hocvien1", "Nguyễn Thị Hồng Nhung", [Role.learner], "CM-SNV", "demo-hocvien-2026"),
    ("hocvien2", "Lê Văn Ửng", [Role.learner], "X-THOI-BINH", "demo-hocvien-2026"),
]

DEMO = Actor(None, "", "demo")


def create_demo() -> list[str]:
    """Create missing demo users; returns lines to print (logins of those just created)."""
    lines = []
    for login, name, roles, unit_code, password in DEMO_USERS:
        if services.find_by_login(login) is not None:
            continue
        unit = units.by_code(unit_code)
        scope = unit.id if unit is not None and Role.hr in roles else None
        services.create_user(
            DEMO,
            full_name=name,
            login=login,
            password=password,
            unit=unit,
            roles=[services.Grant(r, scope if r == Role.hr else None) for r in roles],
        )
        lines.append(f"  {login:<10} {password:<22} {', '.join(r.value for r in roles)}")
    _demo_reading()
    db.session.commit()
    if lines:
        lines.insert(0, "Demo accounts (login, password, roles):")
    else:
        lines.append("Demo accounts already exist (see README.md).")
    return lines


def _demo_reading() -> None:
    """hocvien1 has started the first module: two lessons read."""
    learner = services.find_by_login("hocvien1")
    module = catalog.by_slug("doi-ngoai-nhan-dan")
    if learner is None or module is None or module.published_version is None:
        return
    for lesson in module.published_version.lessons[:2]:
        catalog.mark_read(learner, module, lesson)
