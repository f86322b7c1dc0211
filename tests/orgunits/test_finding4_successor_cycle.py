"""Issue 14, finding 4: a unit that is its own successor's successor was accepted."""

import pytest

from learnhub.audit.services import SYSTEM
from learnhub.orgunits import services
from learnhub.orgunits.models import UnitKind


def _unit(code: str, successor: str = "") -> services.UnitData:
    return services.UnitData(
        code=code,
        name=f"Xã {code}",
        kind=UnitKind.commune,
        parent_code="CM",
        successor_code=successor,
    )


def test_finding4_unit_cannot_become_its_own_successor_through_a_chain(unit):
    for code in ("F4-A", "F4-B", "F4-C"):
        services.save_unit(SYSTEM, _unit(code))
    services.save_unit(SYSTEM, _unit("F4-A", "F4-B"))
    with pytest.raises(services.UnitError, match="tạo thành vòng"):
        services.save_unit(SYSTEM, _unit("F4-B", "F4-A"))  # length 2
    services.save_unit(SYSTEM, _unit("F4-B", "F4-C"))
    with pytest.raises(services.UnitError, match="tạo thành vòng"):
        services.save_unit(SYSTEM, _unit("F4-C", "F4-A"))  # length 3
    with pytest.raises(services.UnitError, match="chính nó"):
        services.save_unit(SYSTEM, _unit("F4-C", "F4-C"))  # length 1
    assert unit("F4-C").successor is None
