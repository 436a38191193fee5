"""A python-socketio client on /console that follows the documented catch-up protocol (docs/api.md, Socket.IO),
as static/js/realtime.js does: a watermark cursor advanced by GET /api/v1/console/changes, live cursors above it
remembered, a fetch on (re)connect, on ``console.resync`` and on a ``console.heartbeat`` naming an unseen cursor.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from functools import partial

import requests
import socketio

KINDS = ("case.created", "case.updated", "sla.card", "rating.poor", "call.ringing", "notification")
NS = "/console"


class ProtocolClient:
    def __init__(self, url: str, token: str, follow: bool = True):
        self.url, self.follow = url, follow
        self.headers = {"Authorization": f"Bearer {token}"}
        self.lock = threading.Lock()
        self.cursor = self._changes(0, limit=1)["head"] if follow else 0  # start at the head, replay nothing
        self.seen: set[int] = set()  # cursors above the watermark applied live
        self.events: dict[int, tuple[str, dict, str]] = {}  # cursor -> (event, payload, "live" | "caught up")
        self.stats: Counter = Counter()
        self.wake = threading.Event()
        self.closed = False
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        for name in KINDS:
            self.sio.on(name, partial(self._live, name), namespace=NS)
        if follow:
            self.sio.on("connect", partial(self._trigger, "connect"), namespace=NS)
            self.sio.on("console.resync", partial(self._trigger, "resync"), namespace=NS)
            self.sio.on("console.heartbeat", self._heartbeat, namespace=NS)
            self.fetcher = threading.Thread(target=self._fetch_loop, daemon=True)
            self.fetcher.start()
        self.sio.connect(url, namespaces=[NS], auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def _changes(self, since: int, limit: int | None = None) -> dict:
        params = {"since": since, **({"limit": limit} if limit else {})}
        resp = requests.get(self.url + "/api/v1/console/changes", params=params, headers=self.headers, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def _apply(self, event: str, data: dict, how: str) -> None:
        cursor = data["cursor"]
        with self.lock:
            if cursor <= self.cursor or cursor in self.seen or cursor in self.events:
                self.stats["duplicates"] += 1
                return
            if how == "live":
                self.seen.add(cursor)
            self.events[cursor] = (event, data, how)
            self.stats[how] += 1

    def _live(self, event: str, data: dict) -> None:
        self._apply(event, data, "live")

    def _trigger(self, why: str, *_args) -> None:
        self.stats[f"trigger {why}"] += 1
        self.wake.set()

    def _heartbeat(self, data: dict) -> None:
        with self.lock:
            unseen = data["cursor"] > self.cursor and data["cursor"] not in self.seen
        if unseen:
            self._trigger("heartbeat")

    def _fetch_loop(self) -> None:
        while not self.closed:
            if not self.wake.wait(0.2):
                continue
            self.wake.clear()
            try:
                self.catch_up()
            except requests.RequestException:
                self.wake.set()
                time.sleep(0.2)

    def catch_up(self) -> None:
        while True:
            body = self._changes(self.cursor)
            self.stats["fetches"] += 1
            for item in body["items"]:
                self._apply(item["event"], item["data"], "caught up")
            with self.lock:
                self.cursor = max(self.cursor, body["next"])
                self.seen = {c for c in self.seen if c > self.cursor}
            if not body["more"]:
                return

    def numbers(self, event: str = "case.created") -> set[str]:
        with self.lock:
            return {data["number"] for kind, data, _how in self.events.values() if kind == event}

    def close(self) -> None:
        self.closed = True
        self.sio.disconnect()
