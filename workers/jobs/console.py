"""Retention of the console event log (RQ cron, daily): events older than HOTLINE_CONSOLE_EVENTS_DAYS are deleted.

A client asking GET /api/v1/console/changes from before the deleted events gets ``reset: true``
(hotline/realtime/eventlog.py). Idempotent: a second run (or a second scheduler) finds nothing older.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from hotline.realtime import eventlog
from workers.context import job


@job
def prune_console_events(now: datetime | None = None) -> int:
    """Delete the console events older than the retention; returns how many."""
    days = current_app.config["HOTLINE"].console_events_days
    return eventlog.prune((now or datetime.now(UTC)) - timedelta(days=days))
