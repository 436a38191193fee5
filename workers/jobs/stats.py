"""The daily rollup of the figures (RQ cron, hourly): roll every day of the trailing window that was never rolled
or was rolled more than 20 hours ago (hotline/stats/rollup.py). Idempotent: a day's rows are replaced, so two
schedulers or a re-run give the same rows. Commits once per day rolled."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from hotline.extensions import db
from hotline.stats import rollup
from workers.context import job


@job
def rollup_stats(now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    days = rollup.due_days(now.astimezone(zone).date(), now)
    cases = 0
    for day in days:
        cases += rollup.roll_day(day, zone, now)
        db.session.commit()
    return {"days": len(days), "cases": cases}
