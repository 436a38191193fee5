"""Departments (承办单位): a tree of city → district → street → community (社区/村), plus city departments and
utilities. Codes are the import key (``flask org import``); a retired unit (``active=False``) keeps its history."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType

KINDS = ("city", "district", "street", "community", "department", "utility")
KIND_LABELS = {
    "city": "市级",
    "district": "区县",
    "street": "街道/镇",
    "community": "社区/村",
    "department": "市直部门",
    "utility": "公共企业",
}


class Department(db.Model):
    __tablename__ = "departments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    # Materialised path of codes, e.g. "/C/D01/D01S01/": descendants share the prefix.
    path: so.Mapped[str] = so.mapped_column(sa.String(255), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # other names of the unit (东城 for 东城区, 和平里 for 和平里社区): routing's gazetteer locates by them too
    aliases: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    # 分中心: a district that runs its own hotline staff; centre-role users of this unit see only its cases
    # (hotline/auth/subcentres.py)
    subcentre: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    parent: so.Mapped[Department | None] = so.relationship(remote_side=[id])

    def is_within(self, other: Department) -> bool:
        """True when self is other or one of its sub-units."""
        return self.path.startswith(other.path)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "parent_code": self.parent.code if self.parent else None,
            "aliases": list(self.aliases or ()),
            "active": self.active,
        }


class Category(db.Model):
    """The 3-level taxonomy; ``path`` is "level1/level2/level3"."""

    __tablename__ = "categories"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    level: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    path: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("categories.id"), index=True)
    # Responsible unit for this category; local=True means the district/street where it happens (属地).
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    local: so.Mapped[bool] = so.mapped_column(default=False)

    parent: so.Mapped[Category | None] = so.relationship(remote_side=[id])
    department: so.Mapped[Department | None] = so.relationship()

    @property
    def level1(self) -> str:
        return self.path.split("/", 1)[0]
