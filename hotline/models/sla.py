"""SLA policy (versioned) and the admin-maintained holiday table."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class SlaPolicy(db.Model):
    __tablename__ = "sla_policies"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(unique=True)
    # {"sign/normal": {"amount": 1, "unit": "work_days"}, ..., "reply_kind/consult": {...}}
    rules: so.Mapped[dict] = so.mapped_column(JSONType)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))


class Holiday(db.Model):
    """Overrides the official calendar: is_workday False = day off, True = make-up working day."""

    __tablename__ = "holidays"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    is_workday: so.Mapped[bool] = so.mapped_column()
    note: so.Mapped[str] = so.mapped_column(sa.String(100), default="")


class SlaCard(db.Model):
    """A yellow (80 % of a limit used) or red (limit passed) card of one assignment's milestone.

    Written only by the sweeper; the unique constraint makes a second sweep (or a second scheduler)
    harmless. Red cards carry ``escalate_at`` (due + 5 working days) until the escalation check ran.
    ``case_id`` and ``department_id`` are copies of the assignment's (lists need no join). None of the three is a
    foreign key: the sweeper inserts a card only in the statement that reads it from its assignment (which is
    never deleted), and each FK check costs a trigger call plus a row lock on the referenced row (WAL, dirty
    pages): the assignment's alone was a large share of PostgreSQL's CPU in a sweep (measurements:
    tests/bench/README.md, sla_sweep).
    """

    __tablename__ = "sla_cards"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "milestone", "level", name="uq_sla_cards_assignment_milestone_level"),
        sa.Index(
            "ix_sla_cards_escalate_at",
            "escalate_at",
            postgresql_where=sa.text("escalate_at IS NOT NULL"),
            sqlite_where=sa.text("escalate_at IS NOT NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(index=True)
    assignment_id: so.Mapped[int] = so.mapped_column()
    department_id: so.Mapped[int] = so.mapped_column()
    milestone: so.Mapped[str] = so.mapped_column(sa.String(8))  # sign | contact | reply
    level: so.Mapped[str] = so.mapped_column(sa.String(8))  # yellow | red
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    escalate_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)  # stats


class SlaTimer(db.Model):
    """When the sweeper must next look at an assignment (its earliest yellow/red instant still ahead; NULL:
    nothing to watch). A narrow table of its own: the sweep rewrites this value for every row it claims,
    and rewriting it on the wide, many-indexed ``assignments`` row cost several times as much (measurements:
    tests/bench/README.md, sla_sweep)."""

    __tablename__ = "sla_timers"
    __table_args__ = (
        sa.Index(
            "ix_sla_timers_next_card_at",
            "next_card_at",
            postgresql_where=sa.text("next_card_at IS NOT NULL"),
            sqlite_where=sa.text("next_card_at IS NOT NULL"),
        ),
    )

    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assignments.id"), primary_key=True)
    next_card_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class SlaPause(db.Model):
    """The clock of an assignment stopped while the case waits for the citizen (ended_at NULL = still paused)."""

    __tablename__ = "sla_pauses"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assignments.id"), index=True)
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    started_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    ended_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))


class SlaExtension(db.Model):
    """延期: asked by the unit before its reply limit, decided by a monitor; the deadline moves on approval."""

    __tablename__ = "sla_extensions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assignments.id"), index=True)
    department_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("departments.id"))
    days: so.Mapped[int] = so.mapped_column()
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")  # pending|approved|denied
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)  # stats
    decision_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    old_due: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    new_due: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class Supervision(db.Model):
    """催办 (remind) / 督办 (supervise) sent to a unit by a supervisor; the unit must acknowledge."""

    __tablename__ = "supervisions"
    __table_args__ = (sa.Index("ix_supervisions_department_ack", "department_id", "acknowledged_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assignments.id"))
    department_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("departments.id"))
    level: so.Mapped[str] = so.mapped_column(sa.String(16))  # remind | supervise
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    ack_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
