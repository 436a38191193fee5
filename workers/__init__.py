"""RQ side: queues, enqueue-after-commit, and the app context jobs run in."""

from __future__ import annotations

from flask import current_app
from rq import Queue

from hotline.db.transactions import after_commit
from hotline.extensions import connect_redis

QUEUES = ("default", "notifications")


def get_queue(name: str = "default") -> Queue:
    settings = current_app.config["HOTLINE"]
    return Queue(name, connection=connect_redis(settings), is_async=True)


def enqueue_on_commit(func, *args, queue: str = "default", **kwargs) -> None:
    """Enqueue ``func(*args)`` after the current transaction commits. Jobs take ids, never ORM objects."""
    after_commit(_enqueue, queue, func, args, kwargs)


def _enqueue(queue: str, func, args, kwargs) -> None:
    get_queue(queue).enqueue(func, *args, **kwargs)
