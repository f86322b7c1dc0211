"""The unit tree: the shipped file, subtrees, successors, editing."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import SYSTEM
from learnhub.content.orgunits import read_units
from learnhub.orgunits import services
from learnhub.orgunits.models import OrgUnit, UnitKind
from tests.support import csrf_token

ROOT = Path(__file__).resolve().parents[2]


def _units():
    rows, problems = read_units(ROOT / "content" / "org-units.toml")
    assert problems == []
    return rows


def test_shipped_file_has_the_64_new_communes_and_wards():
    rows = _units()
    new_local = [r for r in rows if r.kind in (UnitKind.ward, UnitKind.commune)]
    assert len(new_local) == 64
    assert sum(r.kind == UnitKind.ward for r in new_local) == 9
    assert sum(r.kind == UnitKind.commune for r in new_local) == 55
    assert all(r.valid_from == date(2025, 7, 1) and r.parent_code == "CM" for r in new_local)


def test_shipped_file_has_former_districts_with_successors():
    rows = {r.code: r for r in _units()}
    districts = [r for r in rows.values() if r.kind == UnitKind.district]
    assert len(districts) == 16  # 9 of the former Cà Mau, 7 of Bạc Liêu
    for d in districts:
        assert d.valid_to == date(2025, 6, 30)
        assert d.successor_code in rows
    assert rows["H-THOI-BINH"].successor_code == "X-THOI-BINH"
    assert rows["BL-CU"].successor_code == "CM"


def test_sync_is_idempotent(app, runner):
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.output


def test_subtree_helper(unit):
    province = unit("CM")
    ids = set(db.session.scalars(services.subtree_ids(province)))
    assert unit("X-THOI-BINH").id in ids
    assert unit("CM-SNV").id in ids
    assert unit("H-THOI-BINH").id not in ids  # historical, under the former province
    front = set(db.session.scalars(services.subtree_ids(unit("CM-MTTQ"))))
    assert unit("CM-LHHN").id in front
    assert unit("CM-SNV").id not in front


def test_rollup_includes_merged_units(unit):
    ids = set(db.session.scalars(services.rollup_ids(unit("X-THOI-BINH"))))
    assert unit("H-THOI-BINH").id in ids  # the former district reports under its successor


def test_moving_a_unit_moves_its_subtree(unit):
    front = unit("CM-MTTQ")
    services.save_unit(
        SYSTEM,
        services.UnitData(
            code="CM-MTTQ", name=front.name, kind=UnitKind.front, parent_code="CM-UBND"
        ),
    )
    assert unit("CM-LHHN").path.startswith(unit("CM-UBND").path)


def test_cycle_refused(unit):
    with pytest.raises(services.UnitError):
        services.save_unit(
            SYSTEM,
            services.UnitData(
                code="CM", name="Tỉnh Cà Mau", kind=UnitKind.province, parent_code="CM-SNV"
            ),
        )


def test_admin_edits_unit_with_audit(client, login, admin, unit, db_session):
    login(admin)
    snv = unit("CM-SNV")
    token = csrf_token(client, f"/admin/units/{snv.id}")
    response = client.post(
        f"/admin/units/{snv.id}",
        data={
            "csrf_token": token,
            "code": "CM-SNV",
            "name": "Sở Nội vụ tỉnh Cà Mau",
            "kind": "department",
            "parent": snv.parent.code,
            "valid_from": "01/07/2025",
            "valid_to": "",
            "successor": "",
            "note": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert unit("CM-SNV").name == "Sở Nội vụ tỉnh Cà Mau"
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "unit.update", AuditEvent.actor_id == admin.id
        )
    ).one()
    assert event.after["name"] == "Sở Nội vụ tỉnh Cà Mau"
    assert event.actor_id == admin.id


def test_unit_page_lists_tree(client, login, admin):
    login(admin)
    html = client.get("/admin/units/").get_data(as_text=True)
    assert "Xã Thới Bình" in html
    assert "Huyện Thới Bình" not in html
    html_all = client.get("/admin/units/?all=1").get_data(as_text=True)
    assert "Huyện Thới Bình" in html_all


def test_units_have_paths(db_session):
    for unit in db_session.scalars(select(OrgUnit)):
        parent_path = unit.parent.path if unit.parent else "/"
        assert unit.path == f"{parent_path}{unit.id}/"
