"""The processes of the ``socket_fanout`` benchmark: the web server under test, the fleet of Socket.IO client
processes (tests/bench/fanout_client.py) and a sampler of the server's peak RSS and threads."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.bench.server import ROOT, Instance, free_port, log

CLIENTS_PER_PROCESS = 500


@dataclass
class WebServer:
    """One web process serving the app (pages, API, Socket.IO)."""

    kind: str  # flask-run | gthread | gevent | profile (flask-run's server with a CPU sampler inside)
    instance: Instance
    clients: int
    gevent_path: str = ""
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        return {
            "flask-run": "flask --app wsgi run (Werkzeug threaded)",
            "gthread": f"gunicorn gthread 1x{self.clients + 64}",
            "gevent": "gunicorn gevent 1 worker",
            "profile": "Werkzeug threaded + CPU sampler (profiling run)",
        }[self.kind]

    @property
    def profile_file(self) -> Path:
        return self.instance.folder / f"profile-{self.port}.json"

    def command(self) -> list[str]:
        if self.kind == "flask-run":
            return [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        if self.kind == "profile":
            return [
                sys.executable,
                "-m",
                "tests.bench.sampled_web",
                "--port",
                str(self.port),
                "--out",
                str(self.profile_file),
            ]
        common = [
            sys.executable,
            "-m",
            "gunicorn",
            "wsgi:app",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            "1",
            "--worker-connections",
            str(2 * self.clients + 200),
            "--backlog",
            "2048",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        if self.kind == "gthread":
            return [*common, "-k", "gthread", "--threads", str(self.clients + 64)]
        return [*common, "-k", "gevent"]

    def __enter__(self) -> WebServer:
        env = self.instance.env
        if self.kind == "gevent" and self.gevent_path:
            env["PYTHONPATH"] = self.gevent_path + os.pathsep + env.get("PYTHONPATH", "")
        self.logfile = self.instance.folder / f"web-{self.kind}-{self.port}.log"
        with open(self.logfile, "w") as out:
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/bench/ping", timeout=2) as resp:  # noqa: S310 — 127.0.0.1
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError(f"{self.kind} not ready after 60 s:\n{self.log_tail()}")
        time.sleep(1.0)
        log(f"{self.label} up on {self.url} (pid {self.proc.pid}, serving pid {self.serving_pid()})")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def serving_pid(self) -> int:
        """The process that holds the connections: the server itself, or gunicorn's one worker."""
        try:
            children = psutil.Process(self.proc.pid).children()
        except psutil.Error:
            return self.proc.pid
        return children[0].pid if self.kind in ("gthread", "gevent") and children else self.proc.pid

    def memory(self) -> dict:
        try:
            p = psutil.Process(self.serving_pid())
            full = p.memory_full_info()
            return {
                "rss_mb": round(full.rss / 2**20, 1),
                "uss_mb": round(full.uss / 2**20, 1),
                "threads": p.num_threads(),
                "fds": p.num_fds(),
            }
        except psutil.Error:
            return {}

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        tree = [self.proc.pid]
        with contextlib.suppress(psutil.Error):
            tree += [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            for pid in tree:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).kill()
            self.proc.wait(10)


class RssSampler:
    """Peak RSS and threads of one process, sampled every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.peak_rss_mb = 0.0
        self.peak_threads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                p = psutil.Process(self.pid)
                self.peak_rss_mb = max(self.peak_rss_mb, p.memory_info().rss / 2**20)
                self.peak_threads = max(self.peak_threads, p.num_threads())
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(2)
        return {"peak_rss_mb": round(self.peak_rss_mb, 1), "peak_threads": self.peak_threads}


class ClientFleet:
    """``clients`` Socket.IO clients in ``ceil(clients / per_process)`` fanout_client processes."""

    def __init__(self, url: str, tokens: list[str], clients: int, per_process: int = CLIENTS_PER_PROCESS):
        self.procs: list[subprocess.Popen] = []
        n_procs = max(1, math.ceil(clients / per_process))
        for i in range(n_procs):
            n = clients // n_procs + (1 if i < clients % n_procs else 0)
            cmd = [sys.executable, "-m", "tests.bench.fanout_client", "--url", url, "--clients", str(n)]
            for token in tokens:
                cmd += ["--token", token]
            self.procs.append(
                subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            )

    def wait_connected(self, timeout: float = 180) -> dict:
        out = {"ok": 0, "failed": 0, "errors": {}, "seconds": 0.0, "connect_ms_p50": [], "connect_ms_max": 0.0}
        for proc in self.procs:
            line = _readline(proc, timeout)
            data = json.loads(line)
            out["ok"] += data["ok"]
            out["failed"] += data["failed"]
            for k, v in data["errors"].items():
                out["errors"][k] = out["errors"].get(k, 0) + v
            out["seconds"] = max(out["seconds"], data["seconds"])
            out["connect_ms_p50"].append(data["connect_ms_p50"])
            out["connect_ms_max"] = max(out["connect_ms_max"], data["connect_ms_max"] or 0)
        return out

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def received_count(self, timeout: float = 30) -> int:
        for proc in self.procs:
            proc.stdin.write("count\n")
            proc.stdin.flush()
        return sum(json.loads(_readline(proc, timeout))["received"] for proc in self.procs)

    def drain(self, expected: int, quiet: float = 3.0, limit: float = 60.0) -> dict:
        """Wait until every expected event arrived, or nothing more arrived for ``quiet`` seconds."""
        started = time.monotonic()
        last, last_change = -1, started
        while True:
            got = self.received_count()
            now = time.monotonic()
            if got != last:
                last, last_change = got, now
            if got >= expected or now - last_change >= quiet or now - started >= limit:
                return {"received": got, "expected": expected, "seconds": round(now - started, 1)}
            time.sleep(0.5)

    def stop(self, timeout: float = 60) -> tuple[list[list], int, int]:
        """Tell every process to stop; (received per connected client, connected, dropped)."""
        for proc in self.procs:
            with contextlib.suppress(OSError):
                proc.stdin.write("stop\n")
                proc.stdin.flush()
        received, connected, dropped = [], 0, 0
        for proc in self.procs:
            data = json.loads(_readline(proc, timeout))
            connected += data["connected"]
            dropped += data["dropped_during_run"]
            received += [r for r, ok in zip(data["received"], data["connected_mask"], strict=True) if ok]
        return received, connected, dropped

    def close(self) -> None:
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(15)


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box or not box[0]:
        raise RuntimeError(f"fanout client {proc.pid} gave no answer within {timeout:g}s (exit code {proc.poll()})")
    return box[0]
