"""Load generators: wrk (preferred) and a pure-Python asyncio fallback.

Both run a *closed loop*: ``connections`` clients each send the next request as soon as the previous
answer arrived, so the server is saturated and latency includes queueing in front of the workers
(Little's law: mean latency ≈ connections / throughput). ``python_load(rate=R)`` is an *open loop*
instead: requests are scheduled at a fixed rate R and latency is counted from the scheduled moment
(no coordinated omission), which is what "p95 at 200 cases/s" means.

Request bodies are templates: ``{phone}`` becomes a unique valid mobile number (139 + salt + thread
+ counter) and ``{n}`` the request's sequence number, so every create-case makes a new citizen file.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil

from tests.bench.server import log


@dataclass
class LoadSpec:
    name: str
    method: str = "GET"
    path: str = "/"
    body: str | None = None  # template with {phone} and {n}
    headers: dict[str, str] = field(default_factory=dict)
    connections: int = 16
    threads: int = 2
    duration: float = 10.0
    warmup: float = 2.0


def empty_result(spec: LoadSpec, tool: str) -> dict:
    return {"name": spec.name, "tool": tool, "connections": spec.connections, "requests": 0, "ok": 0,
            "errors": 0, "error_kinds": {}, "duration_s": 0.0, "rps": 0.0, "latency_ms": {}, "error_sample": ""}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


# --- wrk ------------------------------------------------------------------------------------------

def ensure_wrk() -> str | None:
    """Path of wrk; installs Debian's package when missing and apt-get is usable (root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("wrk not found: apt-get install -y wrk")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        log("wrk unavailable: using the Python load generator")
    return found


def _lua_str(value: str) -> str:
    level = "=" * 4
    while f"]{level}]" in value:
        level += "="
    return f"[{level}[{value}]{level}]"


def wrk_script(spec: LoadSpec) -> str:
    """Lua for wrk: unique bodies per request, non-2xx counting, a JSON summary from done()."""
    lines = [f"wrk.method = {_lua_str(spec.method)}"]
    for key, value in {"Content-Type": "application/json", **spec.headers}.items():
        lines.append(f"wrk.headers[ {_lua_str(key)} ] = {_lua_str(value)}")
    template = spec.body or ""
    parts = re.split(r"(\{phone\}|\{n\})", template)
    pieces = []
    for part in parts:
        if part == "{phone}":
            pieces.append('string.format("139%02d%d%05d", salt % 100, tid % 10, n % 100000)')
        elif part == "{n}":
            pieces.append("tostring(n)")
        elif part:
            pieces.append(_lua_str(part))
    body_expr = " .. ".join(pieces) if pieces else "nil"
    lines.append("""
local threads = {}
local next_tid = 1

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  salt = tonumber(args[1]) or 0
  n = 0
  bad = 0
  sample = ""
end
""")
    if spec.body is not None:
        lines.append(f"""
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, {body_expr})
end
""")
    lines.append("""
function response(status, headers, body)
  if status < 200 or status >= 300 then
    bad = bad + 1
    if sample == "" then sample = tostring(status) .. " " .. string.sub(body or "", 1, 400) end
  end
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", string.byte(c)) end))
end

function done(summary, latency, requests)
  local nbad, first = 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    local s = t:get("sample")
    if first == "" and s then first = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"mean_us":%.1f,"max_us":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"sample_hex":"%s"}\\n',
    summary.requests, summary.duration, nbad, e.connect, e.read, e.write, e.timeout, latency.mean,
    latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), hex(first)))
end
""")
    return "\n".join(lines)


def wrk_load(wrk: str, base_url: str, spec: LoadSpec, salt: int, duration: float | None = None) -> dict:
    duration = spec.duration if duration is None else duration
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(wrk_script(spec))
        script = fh.name
    try:
        cmd = [wrk, "-t", str(spec.threads), "-c", str(spec.connections), "-d", f"{max(1, round(duration))}s",
               "--timeout", "10s", "-s", script, base_url + spec.path, "--", str(salt)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[len("BENCH_JSON "):])
    socket_errors = {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]}
    errors = raw["non2xx"] + sum(socket_errors.values())
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non2xx"]
    result = empty_result(spec, "wrk")
    result.update(
        requests=raw["requests"], ok=ok, errors=errors, duration_s=round(seconds, 2),
        error_kinds={**({"non2xx": raw["non2xx"]} if raw["non2xx"] else {}), **socket_errors},
        rps=round(ok / seconds, 1) if seconds else 0.0,
        latency_ms={k: round(raw[src] / 1000, 2) for k, src in
                    (("mean", "mean_us"), ("p50", "p50"), ("p90", "p90"), ("p95", "p95"), ("p99", "p99"),
                     ("max", "max_us"))},
        error_sample=bytes.fromhex(raw["sample_hex"]).decode("utf-8", "replace")[:300],
    )
    return result


# --- Python asyncio generator ---------------------------------------------------------------------

class _Conn:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def ensure(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def roundtrip(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and read one response (Content-Length, chunked or close-delimited)."""
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip().lower()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                body += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection") == "close":
            self.close()
        return status, body


class _Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.ok = 0
        self.errors: dict[str, int] = {}
        self.sample = ""

    def record(self, seconds: float, status: int | None, body: bytes = b"", error: str = "") -> None:
        self.latencies.append(seconds)
        if status is not None and 200 <= status < 300:
            self.ok += 1
            return
        kind = "non2xx" if status is not None else error or "socket"
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if not self.sample:
            self.sample = f"{status} {body[:400].decode('utf-8', 'replace')}" if status else error


def _raw_request(spec: LoadSpec, host: str, body: str | None) -> bytes:
    lines = [f"{spec.method} {spec.path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in spec.headers.items()]
    data = (body or "").encode()
    if body is not None:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _body(spec: LoadSpec, salt: int, worker: int, n: int) -> str | None:
    if spec.body is None:
        return None
    phone = f"139{salt % 100:02d}{worker % 10}{n % 100000:05d}"
    return spec.body.replace("{phone}", phone).replace("{n}", str(n))


async def _closed_loop(spec: LoadSpec, base_url: str, salt: int, duration: float) -> tuple[_Stats, float]:
    parts = urlsplit(base_url)
    stats = _Stats()
    started = time.perf_counter()
    deadline = started + duration

    async def client(i: int) -> None:
        conn, n = _Conn(parts.hostname, parts.port), 0
        while time.perf_counter() < deadline:
            n += 1
            raw = _raw_request(spec, parts.netloc, _body(spec, salt, i, n * spec.connections + i))
            try:
                await conn.ensure()
                t0 = time.perf_counter()
                status, body = await asyncio.wait_for(conn.roundtrip(raw), 10)
                stats.record(time.perf_counter() - t0, status, body)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                stats.record(0.0, None, error=type(exc).__name__)
        conn.close()

    await asyncio.gather(*(client(i) for i in range(spec.connections)))
    return stats, time.perf_counter() - started


async def _open_loop(spec: LoadSpec, base_url: str, salt: int, duration: float, rate: float,
                     max_connections: int, grace: float = 5.0) -> tuple[_Stats, float]:
    parts = urlsplit(base_url)
    stats = _Stats()
    idle: list[_Conn] = []
    slots = asyncio.Semaphore(max_connections)
    started = time.perf_counter()
    total = int(duration * rate)

    async def one(n: int, scheduled: float) -> None:
        raw = _raw_request(spec, parts.netloc, _body(spec, salt, 9, n))
        async with slots:
            conn = idle.pop() if idle else _Conn(parts.hostname, parts.port)
            try:
                await conn.ensure()
                status, body = await asyncio.wait_for(conn.roundtrip(raw), 10)
                stats.record(time.perf_counter() - scheduled, status, body)
                idle.append(conn)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                stats.record(time.perf_counter() - scheduled, None, error=type(exc).__name__)

    tasks = []
    for n in range(total):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, scheduled)))
    # An overloaded server would take long to drain the backlog: give it `grace` seconds, then count
    # whatever is still queued or in flight as unserved.
    _done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - started
    if pending:
        stats.errors["unserved"] = stats.errors.get("unserved", 0) + len(pending)
        stats.sample = stats.sample or f"{len(pending)} requests not answered {grace:g} s after the run"
    for conn in idle:
        conn.close()
    return stats, elapsed


def python_load(base_url: str, spec: LoadSpec, salt: int, duration: float | None = None, rate: float | None = None,
                max_connections: int = 64) -> dict:
    """Closed loop with ``spec.connections`` clients, or an open loop at ``rate`` requests/s."""
    duration = spec.duration if duration is None else duration
    if rate:
        stats, elapsed = asyncio.run(_open_loop(spec, base_url, salt, duration, rate, max_connections))
    else:
        stats, elapsed = asyncio.run(_closed_loop(spec, base_url, salt, duration))
    lat = sorted(x * 1000 for x in stats.latencies)
    errors = sum(stats.errors.values())
    if rate:  # unserved requests count as (at least) the whole run long
        lat = sorted(lat + [elapsed * 1000] * stats.errors.get("unserved", 0))
    result = empty_result(spec, "python-open-loop" if rate else "python")
    result.update(
        requests=len(lat), ok=stats.ok, errors=errors, error_kinds=stats.errors, duration_s=round(elapsed, 2),
        rps=round(stats.ok / elapsed, 1) if elapsed else 0.0,
        latency_ms={"mean": round(sum(lat) / len(lat), 2) if lat else 0.0,
                    **{f"p{q}": round(percentile(lat, q), 2) for q in (50, 90, 95, 99)},
                    "max": round(lat[-1], 2) if lat else 0.0},
        error_sample=stats.sample[:300],
    )
    if rate:
        result.update(offered_rps=rate, max_connections=max_connections)
    return result


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
        """Open loop at a fixed rate (Python generator: wrk has no rate control)."""
        return python_load(base_url, spec, self._next_salt(), spec.duration, rate=rate)


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
        return {"server_pct": round(100 * used / elapsed, 1), "machine_pct": round(100 * busy / elapsed, 1),
                "machine_max_pct": 100 * cores}
