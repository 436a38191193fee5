"""The gazetteer (地名库): the places of the city by which routing locates a case and the KB's tokenizer keeps
whole — short forms of unit names, roads, communities/villages, landmarks. Each place belongs to the unit
responsible for it (a district or street; a place of another unit counts for its nearest district/street
ancestor). Routing reads the active places through the per-process refcache (``hotline.db.refcache.places``);
an edit must call ``bump_version()`` so every process rebuilds its tables."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.departments import Department
from hotline.models.types import JSONType, UTCDateTime, utcnow

# alias: another name of the unit itself (东城 for 东城区); the rest are places within the unit
PLACE_KINDS = ("alias", "road", "community", "landmark")
PLACE_KIND_LABELS = {"alias": "简称/别名", "road": "道路", "community": "社区/小区/村", "landmark": "地标"}


class Place(db.Model):
    __tablename__ = "places"
    # a place is named once per unit; the unique index also serves look-ups by unit
    __table_args__ = (sa.UniqueConstraint("department_id", "name", name="uq_places_department_id_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    department_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("departments.id"))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("places.id"))  # e.g. a landmark's community
    aliases: so.Mapped[list] = so.mapped_column(JSONType, default=list)  # other spellings of the same place
    active: so.Mapped[bool] = so.mapped_column(default=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: so.Mapped[Department] = so.relationship()
    parent: so.Mapped[Place | None] = so.relationship(remote_side=[id])

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "department_code": self.department.code,
            "parent_id": self.parent_id,
            "aliases": list(self.aliases or ()),
            "active": self.active,
        }
