"""Knowledge base: service items (政务服务事项) and Q&A / policy articles, their versions, feedback, synonyms.

Search reads published entries into a per-process index (knowledge_base/search.py); ``KbIndexState.seq`` is
the change counter every process compares with its own copy, and ``KbEntry.index_seq`` tells which rows
changed since. ``terms`` is the entry's weighted term vector, computed once when it is written.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow

KB_STATUSES = ("draft", "review", "published", "retired")
KB_STATUS_LABELS = {"draft": "草稿", "review": "待审核", "published": "已发布", "retired": "已下线"}
KB_KINDS = {"service_item": "服务事项", "article": "问答/政策"}
# the service-item fields of 一次性告知, in display order
SERVICE_FIELDS = {
    "unit": "办理单位",
    "conditions": "办理条件",
    "materials": "申请材料",
    "fees": "收费标准",
    "time_limit": "法定时限",
    "place": "办理地点",
    "hours": "办理时间",
    "phone": "咨询电话",
    "online": "网上办理",
}


class KbEntry(db.Model):
    __tablename__ = "kb_entries"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # service_item | article
    code: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    fields: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)  # conditions, materials, fees ...
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    category_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("categories.id"))
    tags: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    districts: so.Mapped[list] = so.mapped_column(JSONType, default=list)  # district codes; empty = whole city
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft", index=True)
    valid_from: so.Mapped[date | None] = so.mapped_column(sa.Date)
    valid_to: so.Mapped[date | None] = so.mapped_column(sa.Date)
    usage_count: so.Mapped[int] = so.mapped_column(default=0)
    version: so.Mapped[int] = so.mapped_column(default=1)
    terms: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)  # search term -> weight
    index_seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0, index=True)
    expiry_warned_on: so.Mapped[date | None] = so.mapped_column(sa.Date)  # valid_to the warning was sent for
    published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department = so.relationship("Department")
    category = so.relationship("Category")

    @property
    def status_label(self) -> str:
        return KB_STATUS_LABELS.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        return KB_KINDS.get(self.kind, self.kind)


class KbVersion(db.Model):
    """Every saved state of an entry (content and status), never edited."""

    __tablename__ = "kb_versions"
    __table_args__ = (sa.UniqueConstraint("entry_id", "version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entry_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("kb_entries.id"), index=True)
    version: so.Mapped[int] = so.mapped_column()
    status: so.Mapped[str] = so.mapped_column(sa.String(16))
    snapshot: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    changed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class KbFeedback(db.Model):
    """ "Not found" / "outdated" from an agent: a task for the owning unit (or the KB admins)."""

    __tablename__ = "kb_feedback"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # not_found | outdated
    entry_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("kb_entries.id"), index=True)
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"))
    query: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="open", index=True)  # open | done
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    entry = so.relationship("KbEntry")
    department = so.relationship("Department")


class KbSynonym(db.Model):
    """One term of a synonym group (社保 / 社会保险 …); terms sharing ``group`` are expanded into each other."""

    __tablename__ = "kb_synonyms"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    term: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    group: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)


class KbIndexState(db.Model):
    """One row (id 1): ``seq`` grows with every change search must see; each process compares it per search."""

    __tablename__ = "kb_index_state"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
