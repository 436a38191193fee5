"""Cases (工单), their timeline events and department assignments."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.citizens import Citizen, CitizenPhone
from hotline.models.departments import Category, Department
from hotline.models.sla import SlaTimer
from hotline.models.types import JSONType, UTCDateTime, utcnow
from hotline.models.users import User

RESULTS = {"resolved": "已解决", "explained": "已解释说明", "unresolved": "未解决"}  # a reply's 办理结果
KINDS = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
CHANNELS = {"phone": "电话", "web": "网站", "wechat": "微信", "app": "App", "sms": "短信", "walk_in": "来访"}
URGENCIES = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}
# the statuses of a live assignment (AssignmentState.PENDING, SIGNED): at most one per case, unit and role
LIVE_ASSIGNMENT_SQL = "status IN ('pending', 'signed')"


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_status_created", "status", "created_at"),
        sa.Index("ix_cases_created_at", "created_at"),  # figures by period (hotline/stats)
        # the routing queue: only cases still waiting for the router are in this index
        sa.Index(
            "ix_cases_routing_pending",
            "id",
            postgresql_where=sa.text("routing_pending"),
            sqlite_where=sa.text("routing_pending"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))
    urgency: so.Mapped[str] = so.mapped_column(sa.String(16), default="normal")
    status: so.Mapped[str] = so.mapped_column(sa.String(16))
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    content: so.Mapped[str] = so.mapped_column(sa.Text)
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    category_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("categories.id"))
    district_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    phone_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizen_phones.id"), index=True)
    confidential: so.Mapped[bool] = so.mapped_column(default=False)
    complex: so.Mapped[bool] = so.mapped_column(default=False)
    lead_department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    call_id: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    merged_into_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    answer: so.Mapped[str | None] = so.mapped_column(sa.Text)
    answer_kb_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    # Deadlines of the current lead assignment, copied here so lists and the sweeper need no join.
    deadline_sign: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    deadline_contact: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    deadline_reply: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    version: so.Mapped[int] = so.mapped_column(default=1)
    # True from registration until the routing job (workers/jobs/routing.py) has stored its suggestions and
    # duplicates; changed with Core UPDATEs only, so it never bumps ``version`` under a client's feet.
    routing_pending: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # where the case happened, WGS-84 decimal degrees, and who gave it ("open311": the client's lat/long); NULL when
    # unknown. Set with a Core UPDATE after registration (hotline/open311/intake.py), so ``version`` stays put.
    lat: so.Mapped[float | None] = so.mapped_column(sa.Float)
    lng: so.Mapped[float | None] = so.mapped_column(sa.Float)
    location_source: so.Mapped[str | None] = so.mapped_column(sa.String(16))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking

    category: so.Mapped[Category | None] = so.relationship()
    district: so.Mapped[Department | None] = so.relationship(foreign_keys=[district_id])
    lead_department: so.Mapped[Department | None] = so.relationship(foreign_keys=[lead_department_id])
    citizen: so.Mapped[Citizen] = so.relationship()
    phone: so.Mapped[CitizenPhone] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()
    events: so.Mapped[list[CaseEvent]] = so.relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="selectin"
    )
    assignments: so.Mapped[list[Assignment]] = so.relationship(
        back_populates="case", order_by="Assignment.id", lazy="selectin"
    )

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def urgency_label(self) -> str:
        return URGENCIES.get(self.urgency, self.urgency)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    def active_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.status not in ("cancelled", "returned")]

    def lead_assignment(self) -> Assignment | None:
        for a in reversed(self.assignments):
            if a.role == "lead" and a.status not in ("cancelled", "returned"):
                return a
        return None


class CaseEvent(db.Model):
    """One line of the timeline; never edited."""

    __tablename__ = "case_events"
    __table_args__ = (
        sa.Index("ix_case_events_case_id_id", "case_id", "id"),
        sa.Index("ix_case_events_action_created_at", "action", "created_at"),
    )  # stats by period

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    from_status: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    to_status: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    actor_label: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    data: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    case: so.Mapped[Case] = so.relationship(back_populates="events")
    actor: so.Mapped[User | None] = so.relationship()
    department: so.Mapped[Department | None] = so.relationship()


class Assignment(db.Model):
    """A case handed to a unit, lead (主办) or assisting (协办), with that unit's own deadlines."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.Index("ix_assignments_department_status", "department_id", "status"),
        sa.Index("ix_assignments_assigned_at", "assigned_at"),  # stats by period
        # one live task per case, unit and role: of N concurrent dispatches of the same unit exactly one row
        # is stored; a returned/cancelled/replied/delegated task may be followed by a new one for the same unit
        sa.Index(
            "ux_assignments_live",
            "case_id",
            "department_id",
            "role",
            unique=True,
            postgresql_where=sa.text(LIVE_ASSIGNMENT_SQL),
            sqlite_where=sa.text(LIVE_ASSIGNMENT_SQL),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    department_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("departments.id"))
    role: so.Mapped[str] = so.mapped_column(sa.String(8), default="lead")
    # pending → signed → replied; or returned / cancelled / delegated (handed on to a street, 二次派单)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("assignments.id"))
    assigned_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    assigned_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    signed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    contacted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    replied_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    deadline_sign: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    deadline_contact: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    deadline_reply: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    reply_content: so.Mapped[str | None] = so.mapped_column(sa.Text)
    reply_result: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    return_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    extensions_used: so.Mapped[int] = so.mapped_column(default=0)
    # SLA timers (hotline/sla/timers.py): the limits in force (policy snapshot + approved extensions),
    # the instants 80 % of each limit is used, the start of an open pause, and the escalation to the
    # superior unit. The next instant the sweeper must look at it lives in sla_timers (``next_card_at``).
    sla_limits: so.Mapped[dict | None] = so.mapped_column(JSONType)
    yellow_sign_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    yellow_contact_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    yellow_reply_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    paused_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    escalated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    escalated_to_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))

    case: so.Mapped[Case] = so.relationship(back_populates="assignments")
    department: so.Mapped[Department] = so.relationship(lazy="joined", foreign_keys=[department_id])
    timer: so.Mapped[SlaTimer | None] = so.relationship(cascade="all, delete-orphan")

    @property
    def next_card_at(self) -> datetime | None:
        """When the SLA sweeper must next look at this assignment (stored in sla_timers)."""
        return self.timer.next_card_at if self.timer is not None else None

    @next_card_at.setter
    def next_card_at(self, value: datetime | None) -> None:
        if self.timer is None:
            if value is not None:
                self.timer = SlaTimer(next_card_at=value)
        else:
            self.timer.next_card_at = value
