"""LoadGenerator: wrk when available, else the Python generator (see load.py for closed and open loops)."""

from __future__ import annotations

import contextlib
import os

from tests.bench.load import CpuMeter, LoadSpec
from tests.bench.load_python import python_load
from tests.bench.load_wrk import ensure_wrk, wrk_load

PACED_PRIORITY = -10  # nice value of the open-loop generator (the server's processes stay at 0)


class LoadGenerator:
    """wrk when available, else the Python generator; each call gets a fresh salt (unique phones)."""

    def __init__(self, prefer_wrk: bool = True):
        self.wrk = ensure_wrk() if prefer_wrk else None
        self.salt = -1  # one salt per run: unique phone numbers within a database (up to 100 runs)
        self.tool = "wrk" if self.wrk else "python"

    def _next_salt(self) -> int:
        self.salt = (self.salt + 1) % 100
        return self.salt

    def saturate(self, base_url: str, spec: LoadSpec, watch: list[int] | None = None) -> dict:
        """Warm-up (discarded), then the measured closed-loop run; with ``watch`` (pids), also the CPU
        those processes used and the whole machine's CPU use during the measured run."""
        if spec.warmup > 0:
            self.run(base_url, spec, spec.warmup)
        meter = CpuMeter(watch or [])
        result = self.run(base_url, spec, spec.duration)
        result["cpu"] = meter.stop()
        if result["rps"] and watch:  # worker CPU per answered request: little affected by other load
            result["cpu"]["server_ms_per_request"] = round(10 * result["cpu"]["server_pct"] / result["rps"], 2)
        return result

    def run(self, base_url: str, spec: LoadSpec, duration: float) -> dict:
        if self.wrk:
            return wrk_load(self.wrk, base_url, spec, self._next_salt(), duration)
        return python_load(base_url, spec, self._next_salt(), duration)

    def paced(self, base_url: str, spec: LoadSpec, rate: float) -> dict:
        """Open loop at a fixed rate (Python generator: wrk has no rate control). Latency counts from each
        request's scheduled send time, so a generator starved of CPU by the server it loads (same 2 cores)
        would add its own lateness: it runs at a higher scheduling priority while it sends (when allowed);
        the server's processes keep theirs. ``result["generator_priority"]`` says which."""
        before = os.getpriority(os.PRIO_PROCESS, 0)
        with contextlib.suppress(OSError):  # not root: measure at the normal priority
            os.setpriority(os.PRIO_PROCESS, 0, PACED_PRIORITY)
        try:
            result = python_load(base_url, spec, self._next_salt(), spec.duration, rate=rate)
            result["generator_priority"] = os.getpriority(os.PRIO_PROCESS, 0)
            return result
        finally:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, 0, before)
