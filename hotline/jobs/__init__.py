"""Enqueue RQ jobs by dotted name, after the commit: the app never imports the job modules (``workers/``).

``workers/`` imports ``hotline`` (jobs run app code); ``hotline`` never imports ``workers``. A job is named by
the dotted path of its function (RQ imports it in the worker process), e.g. :data:`RELAY_OUTBOX`; a test checks
that every name below resolves to a job in ``workers/jobs``. Jobs take ids, never ORM objects.
"""

from __future__ import annotations

import logging

import redis
from flask import current_app
from rq import Queue

from hotline.db.transactions import after_commit
from hotline.extensions import connect_redis, redis_breaker

# Queues by urgency, in the order a worker listening on several of them takes jobs: routing new cases and the
# SLA clock never wait behind a slow SMS/WeChat gateway (``notify``) or a retraining (``default``) when each
# has its own worker (docs/operations.md, Production); ``flask worker --queues routing,sla`` picks them.
ROUTING, SLA, NOTIFY, DEFAULT = "routing", "sla", "notify", "default"
MEDIA = "media"  # thumbnails and media fetched from outside (hotline/evidence, issue 18)
QUEUES = (ROUTING, SLA, NOTIFY, MEDIA, DEFAULT)

RELAY_OUTBOX = "workers.jobs.outbox.relay_outbox"
ROUTE_CASES = "workers.jobs.routing.route_cases"
MAKE_THUMBNAIL = "workers.jobs.media.make_thumbnail"
FETCH_MEDIA = "workers.jobs.media.fetch_media"
FETCH_WECHAT_MEDIA = "workers.jobs.media.fetch_wechat_media"
JOB_NAMES = (RELAY_OUTBOX, ROUTE_CASES, MAKE_THUMBNAIL, FETCH_MEDIA, FETCH_WECHAT_MEDIA)
JOB_QUEUES = {RELAY_OUTBOX: NOTIFY, ROUTE_CASES: ROUTING}  # a job enqueued without ``queue=`` goes to its own
JOB_QUEUES |= {MAKE_THUMBNAIL: MEDIA, FETCH_MEDIA: MEDIA, FETCH_WECHAT_MEDIA: MEDIA}

ROUTER_WAKE_KEY = "hotline:routing:wake"
ROUTER_WAKE_TTL = 30  # seconds: with no worker running, at most one queued job per this interval

log = logging.getLogger(__name__)


def get_queue(name: str = DEFAULT) -> Queue:
    settings = current_app.config["HOTLINE"]
    return Queue(name, connection=connect_redis(settings), is_async=True)


def queue_of(job_name: str) -> str:
    return JOB_QUEUES.get(job_name, DEFAULT)


def enqueue(job_name: str, *args, queue: str | None = None, **kwargs) -> None:
    """Enqueue ``job_name(*args, **kwargs)`` now (the caller has already committed) on ``queue`` (default: the
    job's own queue, :data:`JOB_QUEUES`)."""
    get_queue(queue or queue_of(job_name)).enqueue(job_name, *args, **kwargs)


def enqueue_on_commit(job_name: str, *args, queue: str | None = None, **kwargs) -> None:
    """Enqueue ``job_name(*args, **kwargs)`` once the current transaction commits (dropped on rollback)."""
    after_commit(_enqueue, queue or queue_of(job_name), job_name, args, kwargs)


def _enqueue(queue: str, job_name: str, args, kwargs) -> None:
    try:
        get_queue(queue).enqueue(job_name, *args, **kwargs)
    except redis.RedisError as exc:  # committed already: the scheduler's periodic run of the job catches up
        log.warning("%s not enqueued, Redis unavailable (%s); its periodic run will catch up", job_name, exc)


def wake_router() -> None:
    """Enqueue the routing job (hotline/dispatch/routing_queue.py) unless one is already queued and not yet
    started (one Redis round trip in the common case). The job deletes the key when it starts, before it reads
    the queue, so a case committed before a refused SET is always seen by that queued job. Call it after the
    commit (case registration: ``after_commit(wake_router)``). Never raises: with Redis down the case keeps its
    durable ``routing_pending`` mark and the scheduler's every-minute run routes it once Redis is back."""
    if not redis_breaker.allows():  # Redis failed a moment ago: don't make every registration wait for it
        return
    try:
        client = connect_redis(current_app.config["HOTLINE"])
        if client.set(ROUTER_WAKE_KEY, b"1", nx=True, ex=ROUTER_WAKE_TTL):
            enqueue(ROUTE_CASES)
        redis_breaker.reset()
    except redis.RedisError as exc:
        redis_breaker.trip()
        log.warning("routing job not woken, Redis unavailable (%s); the scheduler's run will route the case", exc)


def router_woken() -> None:
    """The routing job has started: the next registration must wake a new job."""
    try:
        connect_redis(current_app.config["HOTLINE"]).delete(ROUTER_WAKE_KEY)
    except Exception:  # the scheduler's run every minute still finds the cases
        log.warning("routing wake key could not be cleared", exc_info=True)
