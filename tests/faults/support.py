"""The fault tests' tools: a redis-server of their own to kill and restart, and second apps whose singletons
(the limiter and Socket.IO, which every ``create_app`` points at its own Redis) are put back afterwards."""

from __future__ import annotations

import contextlib
import copy
import subprocess
import time
from pathlib import Path

import redis

REDIS_PORT = 6391


class RedisServer:
    """``redis-server --port 6391 --save ''`` as a daemon: ``stop()`` is ``redis-cli shutdown nosave`` (every key
    lost, like a crash without persistence), ``start()`` starts it again, empty."""

    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir = port, workdir
        self.url = f"redis://127.0.0.1:{port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def alive(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.workdir),
                "--pidfile",
                str(self.workdir / "redis.pid"),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            check=True,
            timeout=10,
        )
        self._wait(True)

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, timeout=10)
        self._wait(False)

    def _wait(self, up: bool) -> None:
        deadline = time.monotonic() + 10
        while self.alive() != up:
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not {'start' if up else 'stop'}")
            time.sleep(0.05)


def singletons() -> dict:
    from hotline.extensions import limiter, socketio

    return {obj: copy.copy(vars(obj)) for obj in (limiter, socketio)}


def put_back(state: dict) -> None:
    for obj, attrs in state.items():
        vars(obj).clear()
        vars(obj).update(attrs)


@contextlib.contextmanager
def own_singletons():
    """Put the limiter and Socket.IO singletons back as they were after apps created inside the block."""
    from hotline.extensions import limiter

    saved = singletons()
    options = copy.copy(getattr(limiter, "_storage_options", {}))  # updated in place by every init_app
    try:
        yield
    finally:
        put_back(saved)
        if hasattr(limiter, "_storage_options"):
            limiter._storage_options = options


def make_app(app, **overrides):
    """A second app on the session app's database and instance folder (same keys), with ``overrides``."""
    from hotline import create_app

    settings = app.config["HOTLINE"]
    config = {
        "instance": settings.instance,
        "database_url": settings.database_url,
        "testing": True,
        "login_rate_limit": "1000 per minute",
        **overrides,
    }
    return create_app(config)
