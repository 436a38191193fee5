"""The fault tests' tools: a redis-server of their own to kill and restart, second apps whose singletons
(the limiter and Socket.IO, which every ``create_app`` points at its own Redis) are put back afterwards, and a
real gunicorn on an instance of its own (``Served``)."""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import redis
import sqlalchemy as sa

from tests.helpers import free_port

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


# --- a real gunicorn on an instance of its own (test_gunicorn_kill.py, test_postgres_restart.py) ---------------

ROOT = Path(__file__).resolve().parents[2]
# post_worker_init runs in each worker once it has loaded the app, just before it serves: a file named by its pid
_READY_HOOK = "import pathlib\n\n\ndef post_worker_init(worker):\n    pathlib.Path({!r}, str(worker.pid)).touch()\n"


_PREPARE = """
from wsgi import app

runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["seed", "--demo", "--history", "0"], ["token", "create", "agent1"]):
    result = runner.invoke(args=args, catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
print(result.output)
"""


class Served:
    """A temp instance folder of its own (keys; the SQLite file or ``database_url``; ``REDIS_URL`` when set, else
    the instance's embedded Redis, started here before the workers fork), prepared with the project's CLI (``db
    upgrade``, ``seed --demo``, ``token create agent1``), and ``gunicorn wsgi:app`` (gthread) on a free port.
    ``close()`` stops every process it started and removes the folder."""

    def __init__(self, name: str, database_url: str = ""):
        from hotline.config import Settings
        from hotline.extensions import connect_redis

        self.tmp = Path(tempfile.mkdtemp(prefix=f"hf-{name}-"))
        self.ready = self.tmp / "ready"
        self.ready.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "HOTLINE_"))}
        env.update(HOTLINE_INSTANCE=str(self.tmp / "instance"), PYTHONUNBUFFERED="1", DATABASE_URL=database_url)
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "")
        try:
            self.settings = Settings.from_env(env)  # generates the keys into the instance: the workers read them
            env["DATABASE_URL"] = self.settings.database_url
            self.engine = sa.create_engine(self.settings.database_url, poolclass=sa.pool.NullPool)
            self.redis = connect_redis(self.settings)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.master: subprocess.Popen | None = None
        self.token = ""
        self.seen: set[int] = set()  # every worker pid seen, to stop stragglers

    def prepare(self) -> Served:
        """``flask db upgrade``, ``flask seed --demo``, ``flask token create agent1``: the project's commands, run
        in one process (the app is imported once: a third of the time on a loaded machine)."""
        out = subprocess.run(
            [sys.executable, "-c", _PREPARE], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=180
        )
        assert out.returncode == 0, f"prepare:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
        self.token = out.stdout.strip().splitlines()[-1].strip()
        return self

    def start(self, workers: int = 2, threads: int = 4, timeout: float = 60) -> None:
        conf = self.tmp / "gunicorn_conf.py"
        conf.write_text(_READY_HOOK.format(str(self.ready)))
        args = ["wsgi:app", "-w", str(workers), "-k", "gthread", "--threads", str(threads)]
        args += ["-b", f"127.0.0.1:{self.port}", "-c", str(conf), "--graceful-timeout", "5"]
        log = open(self.tmp / "gunicorn.log", "w")  # noqa: SIM115 — closed with the process
        self.master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while len(self.booted()) < workers:
            assert self.master.poll() is None and time.monotonic() < deadline, "gunicorn did not start\n" + self.log()
            time.sleep(0.1)

    def workers(self) -> list[psutil.Process]:
        try:
            found = psutil.Process(self.master.pid).children()
        except psutil.NoSuchProcess:
            return []
        self.seen.update(p.pid for p in found)
        return found

    def booted(self) -> list[psutil.Process]:
        """The live workers that have loaded the app (oldest first)."""
        ready = {int(p.name) for p in self.ready.iterdir()}
        alive = []
        for proc in self.workers():
            with contextlib.suppress(psutil.Error):  # gone meanwhile
                if proc.pid in ready and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append((proc.create_time(), proc))
        return [proc for _, proc in sorted(alive, key=lambda item: item[0])]

    def serving(self, proc: psutil.Process) -> bool:
        """Has ``proc`` a client connection open on the server's port right now (a request in flight)?"""
        try:
            conns = proc.net_connections(kind="tcp")
        except psutil.Error:
            return False
        return any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port for c in conns)

    def log(self) -> str:
        path = self.tmp / "gunicorn.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def close(self) -> None:
        from hotline.extensions import stop_embedded_redis
        from hotline.jobs import QUEUES, ROUTER_WAKE_KEY

        if self.master is not None:
            self.workers()
            self.master.terminate()
            try:
                self.master.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait(timeout=10)
            for pid in self.seen:  # a worker orphaned by a killed master
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).kill()
        self.engine.dispose()
        if self.settings.redis_url:  # a shared Redis: leave no job or wake-up key of this instance behind
            from rq import Queue

            with contextlib.suppress(redis.RedisError):
                for name in QUEUES:
                    Queue(name, connection=self.redis).empty()
                self.redis.delete(ROUTER_WAKE_KEY)
        stop_embedded_redis(self.settings)
        shutil.rmtree(self.tmp, ignore_errors=True)
