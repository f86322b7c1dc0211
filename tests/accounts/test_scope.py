"""HR scope: a unit's subtree plus the units merged into it."""

from learnhub import policy
from learnhub.accounts.models import Role


def test_scope_includes_merged_units(create_user, unit, db_session):
    officer = create_user("hr-tb", roles=(Role.hr,), scope=unit("X-THOI-BINH"))
    old = create_user(full_name="Người Huyện Cũ", unit=unit("H-THOI-BINH"))  # former district
    new = create_user(full_name="Người Xã Mới", unit=unit("X-THOI-BINH"))
    elsewhere = create_user(full_name="Người Sở Nội Vụ", unit=unit("CM-SNV"))
    seen = set(db_session.scalars(policy.people_ids(officer)))
    assert {old.id, new.id} <= seen
    assert elsewhere.id not in seen
    assert policy.person_in_scope(officer, old)
    assert not policy.person_in_scope(officer, elsewhere)
    ids = set(db_session.scalars(policy.unit_ids(officer)))
    assert unit("H-THOI-BINH").id in ids


def test_unscoped_and_admin_see_everyone(create_user, db_session):
    everyone = create_user("hr-all", roles=(Role.hr,))
    admin = create_user("ad", roles=(Role.admin,))
    assert policy.people_ids(everyone) is None
    assert policy.people_ids(admin) is None
    learner = create_user("hv")
    assert list(db_session.scalars(policy.unit_ids(learner))) == []  # no HR role
    assert not policy.person_in_scope(learner, everyone)


def test_scope_reaches_below_a_merged_unit(create_user, unit):
    """A commune that sat under a former district (with no successor of its own) reports under
    the district's successor, for HR scope too."""
    from learnhub.audit.services import SYSTEM
    from learnhub.orgunits import services as units
    from learnhub.orgunits.models import UnitKind

    old_commune, _ = units.save_unit(
        SYSTEM,
        units.UnitData(
            code="X-CU-THU", name="Xã Cũ Thử", kind=UnitKind.commune, parent_code="H-THOI-BINH"
        ),
    )
    person = create_user(full_name="Người Xã Cũ", unit=old_commune)
    officer = create_user("hr-tb2", roles=(Role.hr,), scope=unit("X-THOI-BINH"))
    assert policy.person_in_scope(officer, person)
    other = create_user("hr-snv2", roles=(Role.hr,), scope=unit("CM-SNV"))
    assert not policy.person_in_scope(other, person)
