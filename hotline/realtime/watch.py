"""Live clients never miss silently: what each web process does so its Socket.IO clients notice a lost event.

Events travel from the process that commits a change to the processes holding the sockets through Redis
pub/sub. When a process's listener loses its Redis connection, python-socketio reconnects it, but whatever was
published meanwhile is gone for that process's clients — and their sockets stay up, so nothing tells them.
Every event is also in the console event log (hotline/realtime/eventlog.py), so each web process watches:

- ``console.resync {cursor}`` to all its clients as soon as its listener has subscribed again after losing the
  connection (:class:`ConsoleManager`);
- an audit every ``HOTLINE_CONSOLE_HEARTBEAT_SECONDS``: the events logged since the last look that this process
  has not delivered (neither published by itself nor received from Redis) one whole interval after being seen
  in the log — lost on the way, e.g. a publish that failed — give ``console.resync`` to their rooms;
- ``console.heartbeat {cursor}`` at the same interval to each client: the latest cursor of an event for its rooms
  (since this process started watching), so a client that has not seen that cursor fetches.

The client then asks GET /api/v1/console/changes?since=CURSOR (docs/api.md, Socket.IO). These messages go
straight to this process's own clients (``ignore_queue``): they do not need Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

import redis
import sqlalchemy as sa
from socketio import RedisManager

from hotline.db.engine import READ_ONLY
from hotline.extensions import db, redis_breaker, socketio
from hotline.realtime.eventlog import EVENTS, head
from hotline.realtime.publish import NAMESPACE, send_local

log = logging.getLogger(__name__)
SCAN = 20000  # log rows read per look (more wait for the next)


class _SignallingPubSub(redis.client.PubSub):
    """redis-py's PubSub reconnects and subscribes again by itself after a dropped connection (its retries), so
    python-socketio never notices: this one sets ``signal`` when it does."""

    def __init__(self, *args, signal: threading.Event, **kwargs):
        self.signal = signal
        super().__init__(*args, **kwargs)

    def on_connect(self, connection) -> None:
        again = bool(self.channels)  # empty on the first connection
        super().on_connect(connection)
        if again:
            self.signal.set()
            log.warning("Socket.IO listener reconnected to Redis: clients of this process resync")


class ConsoleManager(RedisManager):
    """python-socketio's RedisManager, telling :class:`Watch` when its listener subscribed again after losing
    the connection, and which cursors this process delivered to its clients."""

    def __init__(self, url: str, channel: str, publish_options: dict | None = None, **kwargs):
        super().__init__(url, channel=channel, **kwargs)
        self.delivered: set[int] = set()
        self.resubscribed = threading.Event()
        # publishing has its own client with a read timeout (the listener's connection waits on purpose)
        self.publisher = redis.Redis.from_url(url, **(publish_options or {}))

    def _publish(self, data):
        """python-socketio's publish (two attempts, then a log line), but bounded: skipped while Redis is known to
        be failing (the breaker), and a failure trips it, so registrations don't each wait for a dead Redis."""
        if not redis_breaker.allows():
            return None
        try:
            return self.publisher.publish(self.channel, self.json.dumps(data))
        except redis.RedisError as exc:
            redis_breaker.trip()
            log.warning("console event not published, Redis unavailable (%s): clients catch up by cursor", exc)
            return None

    def _redis_connect(self):
        super()._redis_connect()
        if isinstance(self.redis, redis.Redis):
            self.pubsub = _SignallingPubSub(
                self.redis.connection_pool, ignore_subscribe_messages=True, signal=self.resubscribed
            )

    def _handle_emit(self, message):
        data = message.get("data")
        if message.get("namespace") == NAMESPACE and isinstance(data, list) and data and isinstance(data[0], dict):
            cursor = data[0].get("cursor")
            if isinstance(cursor, int):
                self.delivered.add(cursor)
        super()._handle_emit(message)

    def _redis_listen_with_retries(self):  # pragma: no cover — the loop of python-socketio 5.x, plus the signal
        retry_sleep = 1
        subscribed = False
        lost = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry_sleep = 1
                    if lost:
                        lost = False
                        self.resubscribed.set()
                        log.warning("Socket.IO listener subscribed again: clients of this process resync")
                yield from self.pubsub.listen()
                subscribed, lost = False, True  # listen() returned: its connection is gone
            except Exception as exc:
                log.error("Socket.IO listener lost Redis (%s), retrying in %s s", exc, retry_sleep)
                subscribed, lost = False, True
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, 60)


class Watch:
    """One per process: audits the delivered cursors against the log and sends resync/heartbeat messages."""

    def __init__(self, app, manager, interval: float):
        self.app, self.manager, self.interval = app, manager, interval
        self.scanned = 0  # cursor up to which the log has been read
        self.latest: dict[str, int] = {}  # room -> latest cursor of an event for it
        self.waiting: dict[int, tuple[list[str], int]] = {}  # cursor -> (rooms, look it was first seen at)
        self.early: set[int] = set()  # delivered, not yet seen in the log
        self.looks = 0

    def run(self) -> None:
        with self.app.app_context():
            self.scanned = head()
            db.session.remove()
        while True:
            resync = self.resubscribed_wait()
            try:
                with self.app.app_context():
                    try:
                        self.look(resync_all=resync)
                    finally:
                        db.session.remove()
            except Exception:  # the database may be down: try again at the next look
                log.exception("console watch failed")

    def resubscribed_wait(self) -> bool:
        signal = getattr(self.manager, "resubscribed", None)
        if signal is None:
            time.sleep(self.interval)
            return False
        woke = signal.wait(self.interval)
        signal.clear()
        return woke

    def look(self, resync_all: bool = False) -> None:
        if not db.session().in_transaction():
            db.session.connection(execution_options={READ_ONLY: True})  # SQLite: a reader takes no write lock
        rows = db.session.execute(
            sa.select(EVENTS.c.id, EVENTS.c.rooms).where(EVENTS.c.id > self.scanned).order_by(EVENTS.c.id).limit(SCAN)
        ).all()
        for row in rows:
            for room in row.rooms:
                self.latest[room] = row.id
            self.waiting[row.id] = (row.rooms, self.looks)
            self.scanned = row.id
        missed = self.audit()
        if resync_all:
            self.waiting.clear()  # every client fetches everything after its cursor
            self.send("console.resync", {"cursor": self.scanned}, None)
        elif missed:
            rooms = sorted({room for cursor in missed for room in missed[cursor]})
            log.warning("%d console events not delivered to this process: resync %d rooms", len(missed), len(rooms))
            self.send("console.resync", {"cursor": max(missed)}, rooms)
        self.heartbeat()
        self.looks += 1

    def audit(self) -> dict[int, list[str]]:
        """The logged events not delivered by this process one whole look after being seen in the log."""
        delivered = getattr(self.manager, "delivered", None)
        if delivered is None:
            return {}
        self.manager.delivered = set()  # (an add racing with this swap can only cause a needless resync)
        self.early |= delivered
        for cursor in list(self.early):
            if self.waiting.pop(cursor, None) is not None or cursor <= self.scanned:
                self.early.discard(cursor)
        missed = {cursor: rooms for cursor, (rooms, seen) in self.waiting.items() if seen < self.looks}
        for cursor in missed:
            del self.waiting[cursor]
        return missed

    def heartbeat(self) -> None:
        """``console.heartbeat`` to each client of this process: the latest cursor of its rooms (0: none seen)."""
        best: dict[str, int] = {}
        try:
            for room, members in list(self.manager.rooms.get(NAMESPACE, {}).items()):
                latest = 0 if room is None else self.latest.get(room)
                if latest is None:
                    continue
                for sid in list(members):
                    best[sid] = max(best.get(sid, 0), latest)
        except RuntimeError:  # a client joined or left while the rooms were read: the next look
            return
        groups: dict[int, list[str]] = defaultdict(list)
        for sid, cursor in best.items():
            groups[cursor].append(sid)
        for cursor, sids in groups.items():
            self.send("console.heartbeat", {"cursor": cursor}, sids)

    def send(self, event: str, data: dict, to) -> None:
        send_local(event, data, to)


_lock = threading.Lock()
_started: dict[int, Watch] = {}


def ensure_started(app) -> Watch:
    """Start this process's watch (once per Socket.IO server), on the first client connection."""
    server = socketio.server
    with _lock:
        watch = _started.get(id(server))
        if watch is None:
            interval = app.config["HOTLINE"].console_heartbeat_seconds
            watch = _started[id(server)] = Watch(app, server.manager, interval)
            socketio.start_background_task(watch.run)
        return watch
