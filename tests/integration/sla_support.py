"""Helpers for the SLA tests: cases dispatched at an injected time, and the Socket.IO messages queued in Redis."""

from __future__ import annotations

import json
import pickle
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import connect_redis, db

SH = ZoneInfo("Asia/Shanghai")
CHANNEL = "hotline-socketio"  # hotline/__init__.py: RedisManager(redis_url, channel="hotline-socketio")


def sh(y, mo, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


def user(username: str):
    from hotline.models import User

    return db.session.scalar(sa.select(User).where(User.username == username))


def unit(code: str):
    from hotline.models import Department

    return db.session.scalar(sa.select(Department).where(Department.code == code))


def dispatch_at(
    app,
    phone: str,
    when: datetime,
    department: str = "D01S01",
    *,
    urgency: str = "normal",
    kind: str = "complaint",
    sign_after: timedelta | None = timedelta(minutes=5),
) -> tuple[str, int]:
    """Register, dispatch at ``when`` and (unless ``sign_after`` is None) sign; returns (number, assignment id)."""
    from hotline.cases import operations as ops
    from hotline.citizens.phones import normalize

    handler = {"D01S01": "handler_d01s01", "D01": "handler_d01", "ZJJ": "handler_zjj", "SHJ": "handler_shj"}
    with app.app_context():
        new = ops.NewCase(
            channel="phone",
            kind=kind,
            content="楼道灯坏了两个月，晚上回家很不方便，请尽快维修。",
            phone=normalize(phone),
            urgency=urgency,
        )
        case = ops.create_case(new, user("agent1"), when - timedelta(minutes=1))
        assignment = ops.dispatch(case, unit(department), user("dispatcher1"), when)
        if sign_after is not None:
            ops.sign(case, user(handler[department]), when + sign_after)
        db.session.commit()
        return case.number, assignment.id


class SocketCapture:
    """Subscribes to the channel Socket.IO's RedisManager publishes every emit to (real Redis, no mocks)."""

    def __init__(self, app):
        self.pubsub = connect_redis(app.config["HOTLINE"]).pubsub()
        self.pubsub.subscribe(CHANNEL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # wait for the server's confirmation: from now on nothing is missed
            message = self.pubsub.get_message(timeout=0.1)
            if message and message["type"] == "subscribe":
                break

    def emits(self, event: str, quiet: float = 0.5) -> list[dict]:
        """Every emit of ``event`` published since the last call: {"data", "room", "namespace"} each."""
        found = []
        while True:
            message = self.pubsub.get_message(timeout=quiet)
            if message is None:
                return found
            if message["type"] != "message":
                continue
            raw = message["data"]
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                data = pickle.loads(raw)  # noqa: S301 — older python-socketio pickled; our own Redis
            if data.get("method") == "emit" and data.get("event") == event:
                found.append({"data": data["data"][0], "room": data["room"], "namespace": data["namespace"]})

    def cards(self, number: str | None = None, quiet: float = 0.5) -> list[dict]:
        """Every ``sla.card`` message since the last call, one dict each (the payload plus room and namespace),
        optionally only those of case ``number``."""
        return [
            {**m["data"], "room": m["room"], "namespace": m["namespace"]}
            for m in self.emits("sla.card", quiet)
            if number is None or m["data"]["number"] == number
        ]

    def close(self):
        self.pubsub.close()
