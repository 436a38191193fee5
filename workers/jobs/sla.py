"""The SLA sweeper job (RQ cron, every minute): cards, then escalations, one commit per batch.

Safe to run twice and on two schedulers at once (see hotline/sla/sweeper.py). ``now`` is injected for
tests and the bench; the scheduler passes nothing and the job reads the clock once.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import UTC, datetime

from hotline.extensions import db
from hotline.sla import sweeper
from workers.context import job


@job
def sweep_sla(now: datetime | None = None, batch: int = sweeper.BATCH) -> dict:
    """Sweep until nothing is due at ``now``; returns counts (claimed rows, cards, escalations)."""
    now = now or datetime.now(UTC)
    totals = {"claimed": 0, "yellow": 0, "red": 0, "escalated": 0}
    for step in (sweeper.sweep_cards, sweeper.sweep_escalations):
        while True:
            with _no_gc():  # a batch allocates tens of thousands of small objects at once, all freed together
                result = step(now, batch)
                db.session.commit()  # one transaction per batch: short locks, a crash loses one batch at most
            totals["claimed"] += result.claimed
            totals["escalated"] += len(result.escalated)
            for card in result.cards:
                totals[card.level] += 1
            if result.claimed < batch:
                break
    return totals


@contextmanager
def _no_gc():
    """The cyclic collector would otherwise rescan the whole heap again and again while a batch is built
    (a large share of a batch's time: tests/bench/README.md, sla_sweep); reference counting still frees
    everything, memory stays bounded."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
