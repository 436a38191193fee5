"""Start an RQ worker or RQ's cron scheduler against the app's Redis (embedded or REDIS_URL)."""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from hotline.extensions import connect_redis
from workers import QUEUES


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
