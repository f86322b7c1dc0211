"""Pagination of a SELECT, with the page number clamped to what exists."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from learnhub import db

PER_PAGE = 50
MAX_PER_PAGE = 200


def _int(value: object, default: int) -> int:
    try:
        return int(str(value)[:12])
    except ValueError:
        return default


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @classmethod
    def of(cls, stmt: Select, args: Mapping[str, str], per_page: int = PER_PAGE) -> "Page":
        """Run *stmt* for the page named by args["page"] (clamped to 1..pages)."""
        per_page = min(max(_int(args.get("per_page", per_page), per_page), 1), MAX_PER_PAGE)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        pages = max(1, -(-(total or 0) // per_page))
        number = min(max(_int(args.get("page", 1), 1), 1), pages)
        items = db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)).all()
        return cls(list(items), number, per_page, total or 0)
