"""The processes of ``make load``: Redis, the web tier, the Socket.IO process, an RQ worker and the scheduler,
all on one machine, as the README's production section runs them; and a sampler of their CPU and memory.

Every process is started from the repository root, so gunicorn reads the committed ``gunicorn.conf.py``
(preloaded app, connections opened after the fork).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.bench.server import ROOT, Instance, free_port, log

CTI_SECRET = "peak-load-cti-secret"
SMS_SECRET = "peak-load-sms-secret"
TOKEN_USERS = [
    *("agent1", "agent2", "agent3", "dispatcher1", "dispatcher2", "monitor1", "supervisor1"),
    *("handler_zjj", "handler_shj", "handler_rsj", "handler_jtj", "handler_d01", "handler_d01s01"),
]


@dataclass
class PeakInstance(Instance):
    """The bench instance with known webhook secrets (the generator signs CTI and SMS posts)."""

    extra: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env.update(HOTLINE_CTI_SECRET=CTI_SECRET, HOTLINE_SMS_SECRET=SMS_SECRET)
        # the city's citizen app is one Open311 client (one address) posting for many citizens
        env.setdefault("HOTLINE_OPEN311_RATE_LIMIT", "100000 per hour")
        env.update(self.extra)
        return env

    def tokens(self, usernames: list[str]) -> dict[str, str]:
        """One API token per user, made in one process (a ``flask token create`` each would take a minute)."""
        code = (
            "import json, sys\n"
            "from hotline import create_app\n"
            "from hotline.auth.tokens import create_token\n"
            "from hotline.extensions import db\n"
            "from hotline.models import User\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    out = {u.username: create_token(u) for u in User.query.filter(User.username.in_(sys.argv[1:]))}\n"
            "    db.session.commit()\n"
            "print(json.dumps(out))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, *usernames], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise RuntimeError(f"tokens failed:\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


class RedisServer:
    """A redis-server of the bench's own on a spare port (nothing kept on disk)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("redis-server not found: install Debian's redis-server or pass --redis URL")
        cmd = [binary, "--port", str(self.port), "--save", "", "--appendonly", "no", "--maxclients", "10000"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(50):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return self
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class Proc:
    """One service process (and its children: gunicorn's workers, RQ's work horses)."""

    name: str
    cmd: list[str]
    instance: Instance
    ready_url: str = ""
    proc: subprocess.Popen | None = None

    def start(self) -> Proc:
        self.logfile = self.instance.folder / f"{self.name}.log"
        with open(self.logfile, "w") as out:
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.instance.env, stdout=out, stderr=out)
        if self.ready_url:
            self._wait_ready()
        log(f"{self.name} started (pid {self.proc.pid})")
        return self

    def _wait_ready(self, limit: float = 90) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.ready_url, timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {limit:g} s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        with contextlib.suppress(psutil.Error):
            return [self.proc.pid] + [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        return []

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(Path(self.logfile).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        tree = self.pids()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            for pid in tree:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).kill()
            self.proc.wait(10)


def gunicorn(name: str, instance: Instance, workers: int, threads: int, extra: list[str] | None = None) -> Proc:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "wsgi:app", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    cmd += ["-k", "gthread", "--threads", str(threads), "--backlog", "4096", "--timeout", "120"]
    cmd += ["--graceful-timeout", "10", "--log-level", "warning", *(extra or [])]
    proc = Proc(name, cmd, instance, ready_url=f"http://127.0.0.1:{port}/healthz")
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def flask_process(name: str, instance: Instance, *args: str) -> Proc:
    return Proc(name, [sys.executable, "-m", "flask", "--app", "wsgi", *args], instance)


class Sampler:
    """CPU (% of one core) and peak RSS/USS per named process group, sampled every ``interval`` seconds."""

    def __init__(self, groups: dict[str, list[int]], interval: float = 1.0):
        self.groups, self.interval = groups, interval
        self.peak: dict[str, dict] = {name: {"rss_mb": 0.0, "uss_mb": 0.0} for name in groups}
        self._cpu0 = {name: self._cpu(pids) for name, pids in groups.items()}
        self._machine0 = psutil.cpu_times()
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _cpu(pids: list[int]) -> float:
        total = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                total += sum(psutil.Process(pid).cpu_times()[:2])
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pids in self.groups.items():
                rss = uss = 0.0
                for pid in pids:
                    with contextlib.suppress(psutil.Error):
                        info = psutil.Process(pid).memory_full_info()
                        rss += info.rss / 2**20
                        uss += info.uss / 2**20
                peak = self.peak[name]
                peak["rss_mb"], peak["uss_mb"] = max(peak["rss_mb"], round(rss, 1)), max(peak["uss_mb"], round(uss, 1))

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(5)
        elapsed = time.monotonic() - self._t0
        out = {}
        for name, pids in self.groups.items():
            used = self._cpu(pids) - self._cpu0[name]
            out[name] = {"processes": len(pids), "cpu_pct": round(100 * used / elapsed, 1), **self.peak[name]}
        now = psutil.cpu_times()
        busy = (sum(now) - now.idle - now.iowait) - (sum(self._machine0) - self._machine0.idle - self._machine0.iowait)
        out["machine"] = {"cpu_pct": round(100 * busy / elapsed, 1), "max_pct": 100 * (psutil.cpu_count() or 1)}
        return out


def postgres_pids() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
