"""Idempotency keys (RQ cron, daily): keys older than 24 h are deleted (hotline/web/idempotency.py).

Safe to run twice or on two schedulers: a second run finds nothing older than the cutoff. ``now`` is injected for
tests. A key past 24 h is already ignored by the intake (taken over by the next request with it); this only
keeps the table small.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.web.idempotency import prune
from workers.context import job


@job
def prune_idempotency_keys(now: datetime | None = None) -> int:
    """Delete idempotency keys older than 24 h; returns how many."""
    return prune(now or datetime.now(UTC))
