"""Start an RQ worker or RQ's cron scheduler against the app's Redis (embedded or REDIS_URL)."""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from hotline.extensions import connect_redis
from hotline.jobs import QUEUES


def parse_queues(text: str | None) -> tuple[str, ...]:
    """``"routing,sla"`` -> ``("routing", "sla")`` in the order given (a worker takes jobs from the first
    non-empty queue); empty: every queue (``QUEUES``, by urgency). Raises ValueError on an unknown name."""
    names = tuple(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))
    unknown = [n for n in names if n not in QUEUES]
    if unknown:
        raise ValueError(f"未知的队列：{', '.join(unknown)}（可选：{', '.join(QUEUES)}）")
    return names or QUEUES


def run_worker(app: Flask, queues: tuple[str, ...] = QUEUES, burst: bool = False) -> bool:
    conn = connect_redis(app.config["HOTLINE"])
    with app.app_context():
        worker = SimpleWorker([Queue(name, connection=conn) for name in queues], connection=conn)
        return worker.work(burst=burst, with_scheduler=False)


def run_scheduler(app: Flask) -> None:
    conn = connect_redis(app.config["HOTLINE"])
    scheduler = CronScheduler(connection=conn)
    # lazy on purpose: importing the cron table registers its jobs with rq.cron (only the scheduler wants that)
    import workers.schedule as table

    for func, queue, interval in table.CRON_TABLE:
        scheduler.register(func, queue, interval=interval)
    with app.app_context():
        scheduler.start()
