"""What a load run is (LoadSpec), the result every generator returns, percentiles and the CPU meter.

The generators: wrk (preferred, load_wrk.py) and a pure-Python asyncio fallback (load_python.py), chosen by
load_generator.LoadGenerator.

Both run a *closed loop*: ``connections`` clients each send the next request as soon as the previous
answer arrived, so the server is saturated and latency includes queueing in front of the workers
(Little's law: mean latency ≈ connections / throughput). ``python_load(rate=R)`` is an *open loop*
instead: requests are scheduled at a fixed rate R and latency is counted from the scheduled moment
(no coordinated omission), which is what "p95 at 200 cases/s" means.

Request bodies are templates: ``{phone}`` becomes a unique valid mobile number (139 + salt + thread
+ counter) and ``{n}`` the request's sequence number, so every create-case makes a new citizen file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil


@dataclass
class LoadSpec:
    name: str
    method: str = "GET"
    path: str = "/"
    body: str | None = None  # template with {phone} and {n}
    headers: dict[str, str] = field(default_factory=dict)
    paths: list[str] | None = None  # one path per request instead of ``path`` (each used once, then from the start)
    connections: int = 16
    threads: int = 2
    duration: float = 10.0
    warmup: float = 2.0


def empty_result(spec: LoadSpec, tool: str) -> dict:
    return {
        "name": spec.name,
        "tool": tool,
        "connections": spec.connections,
        "requests": 0,
        "ok": 0,
        "errors": 0,
        "error_kinds": {},
        "duration_s": 0.0,
        "rps": 0.0,
        "latency_ms": {},
        "error_sample": "",
    }


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


class CpuMeter:
    """CPU used by some processes and by the whole machine between start and stop (percent of one core)."""

    def __init__(self, pids: list[int]):
        self.procs = []
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                self.procs.append((proc, sum(proc.cpu_times()[:2])))
            except psutil.Error:
                continue
        self.machine = psutil.cpu_times()
        self.started = time.monotonic()

    def stop(self) -> dict:
        elapsed = time.monotonic() - self.started
        used = 0.0
        for proc, before in self.procs:
            try:
                used += sum(proc.cpu_times()[:2]) - before
            except psutil.Error:
                continue
        now = psutil.cpu_times()
        busy = (sum(now) - now.idle - now.iowait) - (sum(self.machine) - self.machine.idle - self.machine.iowait)
        cores = psutil.cpu_count() or 1
        return {
            "server_pct": round(100 * used / elapsed, 1),
            "machine_pct": round(100 * busy / elapsed, 1),
            "machine_max_pct": 100 * cores,
        }
