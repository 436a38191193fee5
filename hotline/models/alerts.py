"""Risk alerts (预警): one row per raised alert, unique by its ``key`` (a re-run of the detection finds the key
and raises nothing twice), and the cases behind it (hotline/alerts, workers/jobs/alerts.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow

ALERT_KINDS = {"cluster": "诉求聚集", "repeat_caller": "重复来电升级", "on_time": "按时办结率偏低"}
ALERT_STATUSES = {"open": "待处理", "acknowledged": "已知悉", "closed": "已关闭"}


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (sa.Index("ix_alerts_status_created", "status", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(128), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    level: so.Mapped[str] = so.mapped_column(sa.String(8), default="yellow")  # yellow | red
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    detail: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    category_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("categories.id"))
    area_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    citizen_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizens.id"))
    window_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    window_end: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    case_count: so.Mapped[int] = so.mapped_column(default=0)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="open")
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)


class AlertCase(db.Model):
    __tablename__ = "alert_cases"

    alert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alerts.id"), primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
