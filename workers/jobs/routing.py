"""Routing jobs. ``route_cases``: the routing queue (hotline/dispatch/routing_queue.py).

Scheduled retraining of the router (RQ cron, daily): closed cases' final categories — after the dispatchers'
corrections — plus the base training data (``HOTLINE_ROUTING_BASE_DATA``, *.tsv) when configured.

The model is written atomically into the instance folder; every web process and worker reloads it at its next
suggestion (``hotline.dispatch.service.load_model`` caches by the file's mtime). Safe to run twice: the last
run's file wins, both trained from the same rows. ``now`` is injected for tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.cases.workflow import CaseState
from hotline.dispatch import model_store
from hotline.dispatch.duplicates import prune_batch
from hotline.dispatch.routing_queue import prune_batches, route_pending
from hotline.extensions import db
from hotline.models import Case, Category
from routing.classifier import load_tsv_dir, train
from routing.model import model_path
from workers.context import job


def closed_samples(since: datetime) -> tuple[list[str], list[str]]:
    """(text, level-1 category) of cases closed since ``since`` with a category, duplicates excluded."""
    rows = db.session.execute(
        sa.select(Case.content, Category.path)
        .join(Category, Category.id == Case.category_id)
        .where(Case.status == CaseState.CLOSED.value, Case.closed_at >= since, Case.merged_into_id.is_(None))
        .order_by(Case.id)
    ).all()
    return [r.content for r in rows], [r.path.split("/", 1)[0] for r in rows]


@job
def route_cases(now: datetime | None = None) -> dict:
    """Route the cases registered since the last run (suggestions, duplicates, auto-dispatch): woken after
    each registration's commit, and run by the scheduler every minute in case a wake-up was lost."""
    return route_pending(now)


@job
def prune_dup_keys(now: datetime | None = None) -> int:
    """Daily: duplicate-check keys of open cases older than the window are dropped (batch by batch, one commit
    each), and the routing jobs' batch records older than a day. Idempotent. Returns the keys deleted."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=current_app.config["HOTLINE"].duplicate_window_days)
    deleted, after = 0, 0
    while after is not None:
        count, after = prune_batch(cutoff, after)
        deleted += count
        db.session.commit()
    prune_batches(now - timedelta(days=1))
    db.session.commit()
    return deleted


@job
def retrain_router(now: datetime | None = None) -> dict:
    settings = current_app.config["HOTLINE"]
    now = now or datetime.now(UTC)
    texts, labels = closed_samples(now - timedelta(days=settings.routing_retrain_days))
    from_cases = len(texts)
    base = 0
    if settings.routing_base_data:
        try:
            data = load_tsv_dir(settings.routing_base_data)
        except FileNotFoundError as err:
            current_app.logger.warning("routing base data unavailable: %s", err)
        else:
            texts, labels, base = texts + data.texts, labels + data.labels, len(data.texts)
    summary = {"from_cases": from_cases, "from_base": base, "classes": len(set(labels)), "trained": False}
    if len(texts) < settings.routing_retrain_min_cases or len(set(labels)) < 2:
        summary["reason"] = "not enough labelled samples; the current model is kept"
        return summary
    model = train(texts, labels)
    model.meta.update(
        {"source": "scheduled", "from_cases": from_cases, "from_base": base, "retrained_at": now.isoformat()}
    )
    path = model_path(settings.instance)
    model.save(path)
    model_store.publish(path, "scheduled")  # every host's processes copy it from the database
    db.session.commit()
    summary.update(trained=True, path=str(path), n=len(texts))
    current_app.logger.info("router retrained: %s", summary)
    return summary
