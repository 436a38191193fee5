"""wrk as the load generator: the Lua script (unique bodies, non-2xx counting, a JSON summary) and its run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

from tests.bench.load import LoadSpec, empty_result
from tests.bench.server import log

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
    path_expr = "nil"
    if spec.paths:  # each thread takes every ``threads``-th path: no two requests share one
        lines.append("local paths = {" + ",".join(_lua_str(x) for x in spec.paths) + "}")
        lines.append(f"local nthreads = {spec.threads}")
        path_expr = "paths[((n - 1) * nthreads + tid - 1) % #paths + 1]"
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
    if spec.body is not None or spec.paths:
        lines.append(f"""
function request()
  n = n + 1
  return wrk.format(nil, {path_expr}, nil, {body_expr})
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
        cmd = [
            wrk,
            "-t",
            str(spec.threads),
            "-c",
            str(spec.connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            script,
            base_url + spec.path,
            "--",
            str(salt),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[len("BENCH_JSON ") :])
    socket_errors = {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]}
    errors = raw["non2xx"] + sum(socket_errors.values())
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non2xx"]
    result = empty_result(spec, "wrk")
    result.update(
        requests=raw["requests"],
        ok=ok,
        errors=errors,
        duration_s=round(seconds, 2),
        error_kinds={**({"non2xx": raw["non2xx"]} if raw["non2xx"] else {}), **socket_errors},
        rps=round(ok / seconds, 1) if seconds else 0.0,
        latency_ms={
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
        error_sample=bytes.fromhex(raw["sample_hex"]).decode("utf-8", "replace")[:300],
    )
    return result
