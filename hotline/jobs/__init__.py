"""Enqueue RQ jobs by dotted name, after the commit: the app never imports the job modules (``workers/``).

``workers/`` imports ``hotline`` (jobs run app code); ``hotline`` never imports ``workers``. A job is named by
the dotted path of its function (RQ imports it in the worker process), e.g. :data:`RELAY_OUTBOX`; a test checks
that every name below resolves to a job in ``workers/jobs``. Jobs take ids, never ORM objects.
"""

from __future__ import annotations

import logging

from flask import current_app
from rq import Queue

from hotline.db.transactions import after_commit
from hotline.extensions import connect_redis

QUEUES = ("default", "notifications")

RELAY_OUTBOX = "workers.jobs.outbox.relay_outbox"
ROUTE_CASES = "workers.jobs.routing.route_cases"
JOB_NAMES = (RELAY_OUTBOX, ROUTE_CASES)

ROUTER_WAKE_KEY = "hotline:routing:wake"
ROUTER_WAKE_TTL = 30  # seconds: with no worker running, at most one queued job per this interval

log = logging.getLogger(__name__)


def get_queue(name: str = "default") -> Queue:
    settings = current_app.config["HOTLINE"]
    return Queue(name, connection=connect_redis(settings), is_async=True)


def enqueue(job_name: str, *args, queue: str = "default", **kwargs) -> None:
    """Enqueue ``job_name(*args, **kwargs)`` now (the caller has already committed)."""
    get_queue(queue).enqueue(job_name, *args, **kwargs)


def enqueue_on_commit(job_name: str, *args, queue: str = "default", **kwargs) -> None:
    """Enqueue ``job_name(*args, **kwargs)`` once the current transaction commits (dropped on rollback)."""
    after_commit(_enqueue, queue, job_name, args, kwargs)


def _enqueue(queue: str, job_name: str, args, kwargs) -> None:
    get_queue(queue).enqueue(job_name, *args, **kwargs)


def wake_router() -> None:
    """Enqueue the routing job (hotline/dispatch/routing_queue.py) unless one is already queued and not yet
    started (one Redis round trip in the common case). The job deletes the key when it starts, before it reads
    the queue, so a case committed before a refused SET is always seen by that queued job. Call it after the
    commit (case registration: ``after_commit(wake_router)``)."""
    redis = connect_redis(current_app.config["HOTLINE"])
    if redis.set(ROUTER_WAKE_KEY, b"1", nx=True, ex=ROUTER_WAKE_TTL):
        enqueue(ROUTE_CASES)


def router_woken() -> None:
    """The routing job has started: the next registration must wake a new job."""
    try:
        connect_redis(current_app.config["HOTLINE"]).delete(ROUTER_WAKE_KEY)
    except Exception:  # the scheduler's run every minute still finds the cases
        log.warning("routing wake key could not be cleared", exc_info=True)
