"""Routing data the app keeps: admin override rules, each case's routing result, and the citizens a
master case answers for (its own caller plus the callers of the cases merged into it)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.departments import Department
from hotline.models.types import JSONType, UTCDateTime, utcnow


class RoutingRule(db.Model):
    """Admin-editable override: keyword / regex / level-1 category / area → unit, highest priority wins."""

    __tablename__ = "routing_rules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    priority: so.Mapped[int] = so.mapped_column(default=0)
    keyword: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    regex: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    category: so.Mapped[str | None] = so.mapped_column(sa.String(100))  # level-1 category name
    area_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))  # district or street
    department_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("departments.id"))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    area: so.Mapped[Department | None] = so.relationship(foreign_keys=[area_id], lazy="joined")
    department: so.Mapped[Department] = so.relationship(foreign_keys=[department_id], lazy="joined")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "priority": self.priority,
            "keyword": self.keyword,
            "regex": self.regex,
            "category": self.category,
            "area_code": self.area.code if self.area else None,
            "department_code": self.department.code,
            "enabled": self.enabled,
            "note": self.note,
        }


class CaseRouting(db.Model):
    """What the router said when the case was registered (shown to the dispatcher), and transfers."""

    __tablename__ = "case_routing"

    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    suggestions: so.Mapped[list] = so.mapped_column(JSONType, default=list)  # [{category, department_code, score}]
    auto: so.Mapped[bool] = so.mapped_column(default=False)
    emergency: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    out_of_scope: so.Mapped[dict | None] = so.mapped_column(JSONType)
    duplicates: so.Mapped[list] = so.mapped_column(JSONType, default=list)  # [{number, score}]
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    transferred_to: so.Mapped[str | None] = so.mapped_column(sa.String(8))  # 110/119/120/122 once transferred
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CaseCitizen(db.Model):
    """A citizen a case answers for besides its own caller: the callers of cases merged into it."""

    __tablename__ = "case_citizens"
    __table_args__ = (sa.UniqueConstraint("case_id", "citizen_id", name="uq_case_citizens_case_citizen"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"))
    phone_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizen_phones.id"))
    via_case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"))  # the merged case it came from
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CaseDupKey(db.Model):
    """Duplicate-check keys of an open case (``routing.duplicates.band_keys`` within its district); removed
    when the case is closed or merged. Looked up by key: the candidates of a new case."""

    __tablename__ = "case_dup_keys"

    key: so.Mapped[int] = so.mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), primary_key=True, index=True)


class RoutingBatch(db.Model):
    """A routing job's batch (PostgreSQL), written just before its commit under the job's advisory lock, so
    ids follow commit order: a job reads the last id before it looks up duplicates, and before committing it
    checks its cases against the batches committed since (``hotline.dispatch.routing_queue``). Pruned daily."""

    __tablename__ = "routing_batches"

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    case_ids: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class RoutingModelFile(db.Model):
    """A trained routing model (the ``routing/model.py`` file's bytes), shared by every host through the
    database: the host that trains publishes it here, every process copies the newest into its instance folder
    (hotline/dispatch/model_store.py). Only the last few are kept."""

    __tablename__ = "routing_model_files"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    size: so.Mapped[int] = so.mapped_column(sa.Integer)
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    source: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
