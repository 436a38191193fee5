"""Processes that open the same instance at the same moment share ONE embedded Redis server."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from hotline.config import ROOT

SNIPPET = """
import sys, time
from hotline.config import Settings
from hotline.extensions import connect_redis
client = connect_redis(Settings.from_env(instance=sys.argv[1]))
client.incr("starters")
print(client.pid, flush=True)
time.sleep(2)
"""


def test_concurrent_starts_share_one_server(tmp_path, app):
    if app.config["HOTLINE"].redis_url:
        pytest.skip("a real Redis server is configured")
    instance = tmp_path / "instance"
    procs = [
        subprocess.Popen([sys.executable, "-c", SNIPPET, str(instance)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    try:
        pids = {p.stdout.readline().strip() for p in procs}
        servers = [
            p
            for p in psutil.process_iter(["name", "cwd"])
            if p.info["name"] == "redis-server" and p.info["cwd"] == str(instance)
        ]
        assert len(pids) == 1 and len(servers) == 1, (pids, servers)
    finally:
        for p in procs:
            p.wait(timeout=20)
        time.sleep(0.2)
        for p in psutil.process_iter(["name", "cwd"]):
            if p.info["name"] == "redis-server" and p.info["cwd"] == str(instance):
                p.terminate()
