"""The pure-Python asyncio load generator (used when wrk is missing, and for open loops at a fixed rate):
raw HTTP/1.1 keep-alive connections, a closed loop and an open loop."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from tests.bench.load import LoadSpec, empty_result, percentile

# --- Python asyncio generator ---------------------------------------------------------------------


class StaleConnection(Exception):
    """The server had closed this idle keep-alive connection (gunicorn's --keep-alive, 2 s by default) before
    the request reached it: not one byte of a response came back. Like a browser, send it again on a new
    connection (the server never saw the request, so this is safe for a POST too)."""


class _Conn:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False  # a response already came back on this connection

    async def ensure(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        self.reused = False

    async def roundtrip(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and read one response (Content-Length, chunked or close-delimited)."""
        try:
            self.writer.write(raw)
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if self.reused and not getattr(exc, "partial", b""):
                raise StaleConnection() from exc
            raise
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
        self.reused = True
        if headers.get("connection") == "close":
            self.close()
        return status, body

    async def send(self, raw: bytes, stats: _Stats) -> tuple[int, bytes]:
        """``roundtrip``, once more on a fresh connection if the server had closed this idle one."""
        await self.ensure()
        try:
            return await self.roundtrip(raw)
        except StaleConnection:
            stats.stale_retries += 1
            self.close()
            await self.ensure()
            return await self.roundtrip(raw)


class _Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.ok = 0
        self.errors: dict[str, int] = {}
        self.sample = ""
        self.stale_retries = 0  # requests sent again after the server closed an idle keep-alive connection

    def record(self, seconds: float, status: int | None, body: bytes = b"", error: str = "") -> None:
        self.latencies.append(seconds)
        if status is not None and 200 <= status < 300:
            self.ok += 1
            return
        kind = "non2xx" if status is not None else error or "socket"
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if not self.sample:
            self.sample = f"{status} {body[:400].decode('utf-8', 'replace')}" if status else error


def _raw_request(spec: LoadSpec, host: str, body: str | None, k: int = 0) -> bytes:
    path = spec.paths[k % len(spec.paths)] if spec.paths else spec.path
    lines = [f"{spec.method} {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
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
            k = n * spec.connections + i
            raw = _raw_request(spec, parts.netloc, _body(spec, salt, i, k), k)
            try:
                t0 = time.perf_counter()
                status, body = await asyncio.wait_for(conn.send(raw, stats), 10)
                stats.record(time.perf_counter() - t0, status, body)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                stats.record(0.0, None, error=type(exc).__name__)
        conn.close()

    await asyncio.gather(*(client(i) for i in range(spec.connections)))
    return stats, time.perf_counter() - started


async def _open_loop(
    spec: LoadSpec, base_url: str, salt: int, duration: float, rate: float, max_connections: int, grace: float = 5.0
) -> tuple[_Stats, float]:
    parts = urlsplit(base_url)
    stats = _Stats()
    idle: list[_Conn] = []
    slots = asyncio.Semaphore(max_connections)
    started = time.perf_counter()
    total = int(duration * rate)

    async def one(n: int, scheduled: float) -> None:
        raw = _raw_request(spec, parts.netloc, _body(spec, salt, 9, n), n)
        async with slots:
            conn = idle.pop() if idle else _Conn(parts.hostname, parts.port)
            try:
                status, body = await asyncio.wait_for(conn.send(raw, stats), 10)
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


def python_load(
    base_url: str,
    spec: LoadSpec,
    salt: int,
    duration: float | None = None,
    rate: float | None = None,
    max_connections: int = 64,
) -> dict:
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
        requests=len(lat),
        ok=stats.ok,
        errors=errors,
        error_kinds=stats.errors,
        duration_s=round(elapsed, 2),
        rps=round(stats.ok / elapsed, 1) if elapsed else 0.0,
        latency_ms={
            "mean": round(sum(lat) / len(lat), 2) if lat else 0.0,
            **{f"p{q}": round(percentile(lat, q), 2) for q in (50, 90, 95, 99)},
            "max": round(lat[-1], 2) if lat else 0.0,
        },
        error_sample=stats.sample[:300],
        stale_retries=stats.stale_retries,
    )
    if rate:
        result.update(offered_rps=rate, max_connections=max_connections)
    return result
