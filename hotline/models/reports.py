"""Monthly reports (月度通报): one row per period, the HTML and PDF kept in the instance folder (hotline/reports,
workers/jobs/reports.py); and the citizen's consent to public display (曝光台, hotline/portal/public.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class MonthlyReport(db.Model):
    __tablename__ = "monthly_reports"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    period: so.Mapped[str] = so.mapped_column(sa.String(7), unique=True)  # YYYY-MM
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")  # queued | done | failed
    html_file: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    pdf_file: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    error: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    generated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class CaseConsent(db.Model):
    """The citizen's answer at intake: may the case (redacted) be shown on the public 曝光台 page."""

    __tablename__ = "case_consents"

    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    public: so.Mapped[bool] = so.mapped_column(default=False)
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="")  # portal | console | api
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
