"""The cron table: what the scheduler enqueues, and how often. Loaded by `flask scheduler`."""

from __future__ import annotations

from rq import cron

from hotline.jobs import DEFAULT, MEDIA, NOTIFY, ROUTING, SLA
from workers.jobs.alerts import detect_alerts
from workers.jobs.console import prune_console_events
from workers.jobs.exports import prune_exports
from workers.jobs.feed import export_feed
from workers.jobs.idempotency import prune_idempotency_keys
from workers.jobs.kb import kb_expiry
from workers.jobs.media import thumbnail_sweep
from workers.jobs.outbox import relay_outbox
from workers.jobs.privacy import apply_retention
from workers.jobs.ratings import sweep_rectifications
from workers.jobs.reports import generate_monthly_report
from workers.jobs.routing import prune_dup_keys, retrain_router, route_cases
from workers.jobs.sla import sweep_sla
from workers.jobs.stats import rollup_stats
from workers.jobs.webhooks import relay_webhooks

CRON_TABLE = [
    # 预警 (issue 19): clusters, repeat callers, late units; idempotent (unique keys, quiet time per subject)
    (detect_alerts, DEFAULT, 900),
    # 月度通报: last month's report once the month is over (so on the 1st), unless it exists; idempotent
    (generate_monthly_report, DEFAULT, 3600),
    # exported files past HOTLINE_EXPORTS_KEEP_DAYS
    (prune_exports, DEFAULT, 24 * 3600),
    # (function, queue, interval seconds); queues by urgency (hotline/jobs QUEUES): a slow gateway on `notify`
    # never delays the `sla` and `routing` queues' workers.
    # The outbox relay catches anything an after-commit enqueue missed, and messages whose relay died.
    (relay_outbox, NOTIFY, 60),
    # webhook deliveries due again after their back-off, and any whose wake-up was lost (issue 21)
    (relay_webhooks, NOTIFY, 60),
    # the data-sharing feed's increments as JSON Lines files / POSTed (platforms asking for 2-hour freshness)
    (export_feed, DEFAULT, 3600),
    # SLA sweeper: yellow/red cards and escalations; idempotent, safe on two schedulers.
    (sweep_sla, SLA, 60),
    # 差评 loop: yellow/red cards for verification, rectification, revisit and explanation limits.
    (sweep_rectifications, SLA, 60),
    # KB validity: warnings 30 days before an entry ends, expired entries retired; idempotent.
    (kb_expiry, DEFAULT, 3600),
    # routing queue: new cases are routed right after registration (woken); this catches a lost wake-up
    (route_cases, ROUTING, 60),
    # duplicate-check keys of cases registered before the window (they can no longer match)
    (prune_dup_keys, DEFAULT, 24 * 3600),
    # router retrained from closed cases' final categories (+ base data): dispatcher corrections teach it
    (retrain_router, DEFAULT, 24 * 3600),
    # Idempotency-Key answers older than 24 h (the intake already ignores them); idempotent
    (prune_idempotency_keys, DEFAULT, 24 * 3600),
    # console event log: events older than HOTLINE_CONSOLE_EVENTS_DAYS (clients catch up from the rest)
    (prune_console_events, DEFAULT, 24 * 3600),
    # daily rollup of the figures: days of the trailing window not rolled in the last 20 h; idempotent
    (rollup_stats, DEFAULT, 3600),
    # thumbnails whose after-commit enqueue was lost (Redis down at upload time); idempotent
    (thumbnail_sweep, MEDIA, 60),
    # personal-data retention (HOTLINE_RETENTION_YEARS): a dry-run report, or the erasure once applied; idempotent
    (apply_retention, DEFAULT, 24 * 3600),
]

for func, queue, interval in CRON_TABLE:
    cron.register(func, queue, interval=interval)
