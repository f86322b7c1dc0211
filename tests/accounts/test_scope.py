"""HR scope: a unit's subtree plus the units merged into it."""

from learnhub.accounts import services
from learnhub.accounts.models import Role


def test_scope_includes_merged_units(create_user, unit, db_session):
    officer = create_user("hr-tb", roles=(Role.hr,), scope=unit("X-THOI-BINH"))
    old = create_user(full_name="Người Huyện Cũ", unit=unit("H-THOI-BINH"))  # former district
    new = create_user(full_name="Người Xã Mới", unit=unit("X-THOI-BINH"))
    elsewhere = create_user(full_name="Người Sở Nội Vụ", unit=unit("CM-SNV"))
    seen = set(db_session.scalars(services.people_in_scope(officer)))
    assert {old.id, new.id} <= seen
    assert elsewhere.id not in seen
    assert services.in_scope(officer, old)
    assert not services.in_scope(officer, elsewhere)
    ids = set(db_session.scalars(services.scope_unit_ids(officer)))
    assert unit("H-THOI-BINH").id in ids


def test_unscoped_and_admin_see_everyone(create_user, db_session):
    everyone = create_user("hr-all", roles=(Role.hr,))
    admin = create_user("ad", roles=(Role.admin,))
    assert services.people_in_scope(everyone) is None
    assert services.people_in_scope(admin) is None
    learner = create_user("hv")
    assert list(db_session.scalars(services.scope_unit_ids(learner))) == []  # no HR role
    assert not services.in_scope(learner, everyone)
