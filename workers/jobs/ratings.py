"""The 差评 loop's time-limit sweep (every minute from the cron table)."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.ratings.sweep import sweep
from workers.context import job


@job
def sweep_rectifications(now: str | None = None) -> int:
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    return len(sweep(moment))
