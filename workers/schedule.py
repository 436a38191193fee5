"""The cron table: what the scheduler enqueues, and how often. Loaded by `flask scheduler`."""

from __future__ import annotations

from rq import cron

from hotline.jobs import DEFAULT, NOTIFY, ROUTING, SLA
from workers.jobs.console import prune_console_events
from workers.jobs.idempotency import prune_idempotency_keys
from workers.jobs.kb import kb_expiry
from workers.jobs.outbox import relay_outbox
from workers.jobs.ratings import sweep_rectifications
from workers.jobs.routing import prune_dup_keys, retrain_router, route_cases
from workers.jobs.sla import sweep_sla

CRON_TABLE = [
    # (function, queue, interval seconds); queues by urgency (hotline/jobs QUEUES): a slow gateway on `notify`
    # never delays the `sla` and `routing` queues' workers.
    # The outbox relay catches anything an after-commit enqueue missed, and messages whose relay died.
    (relay_outbox, NOTIFY, 60),
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
]

for func, queue, interval in CRON_TABLE:
    cron.register(func, queue, interval=interval)
