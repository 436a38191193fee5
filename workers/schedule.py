"""The cron table: what the scheduler enqueues, and how often. Loaded by `flask scheduler`."""

from __future__ import annotations

from rq import cron

from workers.jobs.kb import kb_expiry
from workers.jobs.outbox import relay_outbox
from workers.jobs.ratings import sweep_rectifications
from workers.jobs.routing import prune_dup_keys, retrain_router, route_cases
from workers.jobs.sla import sweep_sla

CRON_TABLE = [
    # (function, queue, interval seconds) — the outbox relay catches anything an after-commit enqueue missed.
    (relay_outbox, "notifications", 60),
    # SLA sweeper: yellow/red cards and escalations; idempotent, safe on two schedulers.
    (sweep_sla, "default", 60),
    # 差评 loop: yellow/red cards for verification, rectification, revisit and explanation limits.
    (sweep_rectifications, "default", 60),
    # KB validity: warnings 30 days before an entry ends, expired entries retired; idempotent.
    (kb_expiry, "default", 3600),
    # routing queue: new cases are routed right after registration (woken); this catches a lost wake-up
    (route_cases, "default", 60),
    # duplicate-check keys of cases registered before the window (they can no longer match)
    (prune_dup_keys, "default", 24 * 3600),
    # router retrained from closed cases' final categories (+ base data): dispatcher corrections teach it
    (retrain_router, "default", 24 * 3600),
]

for func, queue, interval in CRON_TABLE:
    cron.register(func, queue, interval=interval)
