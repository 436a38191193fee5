"""Personal-data retention (RQ cron, daily; hotline/privacy/retention.py): with HOTLINE_RETENTION_YEARS set, the
people past the limit are listed in the audit log (dry run) — and erased once HOTLINE_RETENTION_APPLY is set.
Safe to run twice or on two schedulers: an erased file is never a candidate again."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from hotline.privacy import retention
from workers.context import job


@job
def apply_retention(now: datetime | None = None) -> dict:
    settings = current_app.config["HOTLINE"]
    now = now or datetime.now(UTC)
    if settings.retention_years <= 0:
        return {"people": 0, "applied": False}
    if settings.retention_apply:
        result = retention.apply(now, settings.retention_years)
    else:
        result = retention.report(now, settings.retention_years)
        retention.record_dry_run(result)
    return {"people": result.people, "cases": result.cases, "applied": result.applied}
