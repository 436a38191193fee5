"""Monthly report (月度通报, hotline/reports): hourly, last month's report once the month is over (so on the 1st)
unless it exists; or the month asked for. Idempotent: one row per period (unique), a done report is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from hotline.reports.content import previous_period
from hotline.reports.render import generate
from workers.context import job


@job
def generate_monthly_report(period: str | None = None, requested_by: int | None = None, force: bool = False) -> dict:
    if period is None:
        zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
        period = previous_period(datetime.now(UTC).astimezone(zone).strftime("%Y-%m"))
    report = generate(period, requested_by, force)
    return {"period": period, "status": report.status, "pdf": bool(report.pdf_file)}
