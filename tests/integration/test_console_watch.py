"""Each web process's watch (hotline/realtime/watch.py): the audit of delivered cursors against the log, the
heartbeat per client, and the resync signal when the Socket.IO listener's Redis connection comes back."""

from __future__ import annotations

import threading
import time

from hotline.extensions import connect_redis, db, redis_url_for
from hotline.realtime import eventlog
from hotline.realtime.publish import publish
from hotline.realtime.watch import NAMESPACE, ConsoleManager, Watch


class FakeManager:
    def __init__(self, rooms=None):
        self.delivered: set[int] = set()
        self.resubscribed = threading.Event()
        self.rooms = {NAMESPACE: rooms or {}}


class RecordingWatch(Watch):
    def __init__(self, app, manager):
        super().__init__(app, manager, interval=0.01)
        self.sent: list[tuple[str, dict, object]] = []

    def send(self, event, data, to):
        self.sent.append((event, data, to))


def _publish(app, rooms_list) -> list[int]:
    with app.app_context():
        start = eventlog.head()
        for i, rooms in enumerate(rooms_list):
            payload = {"number": f"N-W-{i}", "status": "handling", "version": 2, "action": "sign",
                       "department_code": None}  # fmt: skip
            publish("case.updated", payload, rooms)
        db.session.commit()
        return list(range(start + 1, eventlog.head() + 1))


def _start(app, watch):
    with app.app_context():
        watch.scanned = eventlog.head()


def test_an_event_this_process_never_delivered_makes_its_rooms_resync(app):
    manager = FakeManager()
    watch = RecordingWatch(app, manager)
    _start(app, watch)
    a, b, c = _publish(app, [["role:agent"], ["department:ZJJ", "role:monitor"], ["role:agent"]])
    manager.delivered |= {a, c}  # b was lost on the way (its publish failed, or the listener was reconnecting)
    with app.app_context():
        watch.look()
    assert [s for s in watch.sent if s[0] == "console.resync"] == []  # one whole look to arrive
    with app.app_context():
        watch.look()
    assert [s for s in watch.sent if s[0] == "console.resync"] == [
        ("console.resync", {"cursor": b}, ["department:ZJJ", "role:monitor"])
    ]
    watch.sent.clear()
    with app.app_context():
        watch.look()
    assert [s for s in watch.sent if s[0] == "console.resync"] == []  # said once
    assert watch.waiting == {} and watch.early == set()


def test_late_delivery_within_a_look_is_no_loss(app):
    manager = FakeManager()
    watch = RecordingWatch(app, manager)
    _start(app, watch)
    (a,) = _publish(app, [["role:agent"]])
    with app.app_context():
        watch.look()
    manager.delivered.add(a)  # arrives after the look that found it in the log
    with app.app_context():
        watch.look()
        watch.look()
    assert [s for s in watch.sent if s[0] == "console.resync"] == []


def test_listener_back_means_resync_for_everyone(app):
    watch = RecordingWatch(app, FakeManager())
    _start(app, watch)
    _publish(app, [["role:agent"]])
    with app.app_context():
        watch.look(resync_all=True)
    assert ("console.resync", {"cursor": watch.scanned}, None) in watch.sent
    assert watch.waiting == {}


def test_heartbeat_names_the_latest_cursor_of_each_clients_rooms(app):
    rooms = {
        None: {"sid-a": "e1", "sid-b": "e2", "sid-c": "e3"},
        "role:agent": {"sid-a": "e1", "sid-b": "e2"},
        "department:ZJJ": {"sid-c": "e3"},
        "user:1": {"sid-a": "e1"},
        "sid-a": {"sid-a": "e1"},
    }
    manager = FakeManager(rooms)
    watch = RecordingWatch(app, manager)
    _start(app, watch)
    agent, zjj, user1 = _publish(app, [["role:agent"], ["department:ZJJ"], ["user:1"]])
    manager.delivered |= {agent, zjj, user1}
    with app.app_context():
        watch.look()
    beats = {tuple(sorted(to)): data["cursor"] for event, data, to in watch.sent if event == "console.heartbeat"}
    assert beats == {("sid-a",): user1, ("sid-b",): agent, ("sid-c",): zjj}


def test_pubsub_reconnect_after_client_kill_sets_the_signal(app):
    """redis-py reconnects a killed pub/sub connection and subscribes again by itself; python-socketio never sees
    it. The manager's pub/sub tells the watch (``resubscribed``), so its clients resync at once."""
    settings = app.config["HOTLINE"]
    manager = ConsoleManager(redis_url_for(settings), channel="hotline-test-watch")
    manager._redis_connect()
    pubsub = manager.pubsub
    pubsub.subscribe("hotline-test-watch")
    deadline = time.monotonic() + 5
    while not pubsub.subscribed and time.monotonic() < deadline:
        pubsub.get_message(timeout=0.1)
    assert not manager.resubscribed.is_set()
    redis = connect_redis(settings)
    killed = redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    assert killed >= 1
    deadline = time.monotonic() + 10
    while not manager.resubscribed.is_set() and time.monotonic() < deadline:
        try:
            pubsub.get_message(timeout=0.2)
        except Exception:  # a reconnect attempt may fail once; the loop tries again
            time.sleep(0.1)
    assert manager.resubscribed.is_set()
    redis.publish("hotline-test-watch", "after")
    deadline = time.monotonic() + 5
    got = None
    while got is None and time.monotonic() < deadline:
        got = pubsub.get_message(timeout=0.2)
    assert got and got["data"] == b"after"  # subscribed again
    pubsub.close()
