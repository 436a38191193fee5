"""Load for the ``profile_lookup`` benchmark: random loaded phone numbers against GET /api/v1/citizens/lookup,
with wrk (closed loop) or a Python open loop at a fixed rate (latency from the scheduled send time)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench.load import percentile
from tests.bench.load_python import _Conn, _Stats

PATH = "/api/v1/citizens/lookup?phone="


def wrk_lookup_script(token: str) -> str:
    """wrk Lua: a random number of the phones file (args[1]) per request; counts non-2xx and not-found."""
    return """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %s"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  phones = {}
  for line in io.lines(args[1]) do
    if #line > 0 then phones[#phones + 1] = line end
  end
  math.randomseed(tonumber(args[2]) or 1)
  bad = 0
  notfound = 0
  sample = ""
end

function request()
  return wrk.format(nil, "%s" .. phones[math.random(#phones)])
end

function response(status, headers, body)
  if status < 200 or status >= 300 then
    bad = bad + 1
    if sample == "" then sample = tostring(status) .. " " .. string.sub(body or "", 1, 300) end
  elseif not string.find(body, '"found":true', 1, true) then
    notfound = notfound + 1
  end
end

function done(summary, latency, requests)
  local nbad, nnf = 0, 0
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    nnf = nnf + (t:get("notfound") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"non2xx":%%d,"notfound":%%d,"socket":%%d,' ..
    '"mean_us":%%.1f,"max_us":%%d,"p50":%%d,"p90":%%d,"p95":%%d,"p99":%%d}\\n',
    summary.requests, summary.duration, nbad, nnf, e.connect + e.read + e.write + e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99)))
end
""" % (token, PATH)  # noqa: UP031 — the Lua has its own braces


def wrk_lookup(wrk: str, base_url: str, token: str, phones: Path, connections: int, duration: float, name: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(wrk_lookup_script(token))
        script = fh.name
    try:
        threads = min(2, connections)
        cmd = [
            wrk,
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            script,
            base_url + "/",
            "--",
            str(phones),
            str(random.randrange(10**6)),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[len("BENCH_JSON ") :])
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non2xx"]
    return {
        "name": name,
        "tool": "wrk closed loop",
        "connections": connections,
        "requests": raw["requests"],
        "ok": ok,
        "errors": raw["non2xx"] + raw["socket"],
        "not_found": raw["notfound"],
        "duration_s": round(seconds, 2),
        "rps": round(ok / seconds, 1) if seconds else 0.0,
        "latency_ms": {
            k: round(raw[src] / 1000, 2)
            for k, src in (
                ("mean", "mean_us"),
                ("p50", "p50"),
                ("p90", "p90"),
                ("p95", "p95"),
                ("p99", "p99"),
                ("max", "max_us"),
            )
        },
    }


async def _paced(
    base_url: str,
    token: str,
    phones: list[str],
    rate: float,
    duration: float,
    max_connections: int = 32,
    grace: float = 5.0,
) -> tuple[_Stats, float, int]:
    parts = urlsplit(base_url)
    stats = _Stats()
    idle: list[_Conn] = []
    slots = asyncio.Semaphore(max_connections)
    rng = random.Random(7)
    not_found = 0
    started = time.perf_counter()

    async def one(scheduled: float, phone: str) -> None:
        nonlocal not_found
        raw = (f"GET {PATH}{phone} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
        async with slots:
            reused = bool(idle)
            conn = idle.pop() if idle else _Conn(parts.hostname, parts.port)
            try:
                await conn.ensure()
                try:
                    status, body = await asyncio.wait_for(conn.roundtrip(raw), 10)
                except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                    if not reused:
                        raise
                    # gunicorn closed this idle keep-alive connection (--keep-alive 2 s): like any HTTP
                    # client, send the GET again on a new one (still timed from the scheduled moment)
                    conn.close()
                    await conn.ensure()
                    status, body = await asyncio.wait_for(conn.roundtrip(raw), 10)
                stats.record(time.perf_counter() - scheduled, status, body)
                if status == 200 and b'"found":true' not in body:
                    not_found += 1
                idle.append(conn)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                stats.record(time.perf_counter() - scheduled, None, error=type(exc).__name__)

    tasks = []
    for n in range(int(duration * rate)):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, rng.choice(phones))))
    _done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        stats.errors["unserved"] = len(pending)
    for conn in idle:
        conn.close()
    return stats, time.perf_counter() - started, not_found


def paced_lookup(base_url: str, token: str, phones_file: Path, rate: float, duration: float, name: str) -> dict:
    phones = [ln.strip() for ln in phones_file.read_text().splitlines() if ln.strip()]
    stats, elapsed, not_found = asyncio.run(_paced(base_url, token, phones, rate, duration))
    lat = sorted(x * 1000 for x in stats.latencies)
    return {
        "name": name,
        "tool": "python open loop",
        "offered_rps": rate,
        "requests": len(lat),
        "ok": stats.ok,
        "errors": sum(stats.errors.values()),
        "error_kinds": stats.errors,
        "not_found": not_found,
        "duration_s": round(elapsed, 2),
        "rps": round(stats.ok / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {
            "mean": round(sum(lat) / len(lat), 2) if lat else 0.0,
            **{f"p{q}": round(percentile(lat, q), 2) for q in (50, 90, 95, 99)},
            "max": round(lat[-1], 2) if lat else 0.0,
        },
        "error_sample": stats.sample[:200],
    }
