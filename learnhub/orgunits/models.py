"""The organisational-unit tree."""

import enum
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.db import Base, enum_check


class UnitKind(enum.StrEnum):
    province = "province"
    former_province = "former_province"
    party = "party"
    council = "council"
    government = "government"
    department = "department"
    front = "front"
    mass_org = "mass_org"
    district = "district"
    ward = "ward"
    commune = "commune"
    office = "office"


KIND_LABELS = {
    UnitKind.province: _l("Tỉnh"),
    UnitKind.former_province: _l("Tỉnh (cũ)"),
    UnitKind.party: _l("Cơ quan Đảng"),
    UnitKind.council: _l("Cơ quan dân cử"),
    UnitKind.government: _l("Ủy ban nhân dân"),
    UnitKind.department: _l("Sở, ban, ngành"),
    UnitKind.front: _l("Mặt trận Tổ quốc"),
    UnitKind.mass_org: _l("Tổ chức chính trị - xã hội, hội"),
    UnitKind.district: _l("Huyện, thị xã, thành phố (cũ)"),
    UnitKind.ward: _l("Phường"),
    UnitKind.commune: _l("Xã"),
    UnitKind.office: _l("Phòng, đơn vị trực thuộc"),
}


class OrgUnit(Base):
    """One unit of the tree; historical units keep their rows and point to a successor."""

    __tablename__ = "org_units"
    __table_args__ = (
        enum_check("kind", UnitKind),
        CheckConstraint("valid_to >= valid_from", name="validity_in_order"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        CheckConstraint("successor_id <> id", name="not_own_successor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code, used by content/org-units.toml, roster files and reports.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[UnitKind] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    #: Materialised path of ids, "/1/5/23/": a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(String(500), index=True, default="/")
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    #: The unit that holds this unit's records today (after a merger or abolition).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    #: Communes: code of the main former district (metadata, not a legal statement).
    former_district: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(1000), default="")

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])
    successor: Mapped["OrgUnit | None"] = relationship(
        remote_side=[id], foreign_keys=[successor_id]
    )

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(UnitKind(self.kind), str(self.kind))

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_current(self, on: date) -> bool:
        """Whether the unit exists on the given day."""
        started = self.valid_from is None or self.valid_from <= on
        return started and (self.valid_to is None or on <= self.valid_to)

    def contains(self, other: "OrgUnit") -> bool:
        """Whether *other* is this unit or lies below it."""
        return other.path.startswith(self.path)

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code}>"
