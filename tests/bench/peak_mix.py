"""The peak-hour mix: many actions at once, each an open loop at its own rate, in one asyncio process.

Every action is scheduled at a fixed rate (request k of an action is due at ``start + k / rate``) and its
latency is counted from that scheduled moment, so a server that falls behind shows it in the percentiles
instead of silently slowing the generator down (no coordinated omission). Requests still unanswered
``grace`` seconds after the run count as errors ("unserved"). Requests scheduled during the warm-up are sent
but not counted.

An action is a name, a rate, a kind (``write`` or ``read``, for the totals) and a ``build(n)`` returning
``(method, path, headers, body)``; ``on_answer(status, body)`` lets an action learn from its answers (new case
numbers, the console cursor) so later requests of other actions use them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.bench.load import percentile
from tests.bench.load_python import _Conn, _Stats

Request = tuple[str, str, dict[str, str], bytes | None]


@dataclass
class Action:
    name: str
    rate: float  # requests per second
    kind: str  # write | read
    build: Callable[[int], Request]
    on_answer: Callable[[int, bytes], None] | None = None
    expect: tuple[int, ...] = (200, 201)
    max_connections: int = 48
    stats: _Stats = field(default_factory=_Stats)
    sent: int = 0


def _raw(host: str, method: str, path: str, headers: dict[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _run_action(action: Action, base_url: str, started: float, warmup: float, duration: float) -> list:
    parts = urlsplit(base_url)
    idle: list[_Conn] = []
    slots = asyncio.Semaphore(action.max_connections)
    counted_from = started + warmup
    tasks = []

    async def one(n: int, scheduled: float) -> None:
        method, path, headers, body = action.build(n)
        raw = _raw(parts.netloc, method, path, headers, body)
        async with slots:
            conn = idle.pop() if idle else _Conn(parts.hostname, parts.port)
            try:
                status, answer = await asyncio.wait_for(conn.send(raw, action.stats), 15)
                idle.append(conn)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                if scheduled >= counted_from:
                    action.stats.record(time.perf_counter() - scheduled, None, error=type(exc).__name__)
                return
        if action.on_answer is not None and status in action.expect:
            action.on_answer(status, answer)
        if scheduled >= counted_from:
            code = 200 if status in action.expect else (status if status >= 300 else 600)  # 600: unexpected 2xx
            action.stats.record(time.perf_counter() - scheduled, code, answer)

    total = int((warmup + duration) * action.rate)
    for n in range(total):
        scheduled = started + n / action.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        action.sent += 1
        tasks.append(asyncio.create_task(one(n, scheduled)))
    return tasks


async def _run_all(actions: list[Action], base_url: str, warmup: float, duration: float, grace: float) -> float:
    started = time.perf_counter() + 0.2
    batches = await asyncio.gather(*(_run_action(a, base_url, started, warmup, duration) for a in actions))
    tasks = [t for batch in batches for t in batch]
    _done, pending = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    unserved: dict[str, int] = {}
    for action, batch in zip(actions, batches, strict=True):
        n = sum(1 for t in batch if t in pending)
        if n:
            action.stats.errors["unserved"] = action.stats.errors.get("unserved", 0) + n
            unserved[action.name] = n
    return time.perf_counter() - started


def run_mix(actions: list[Action], base_url: str, warmup: float, duration: float, grace: float = 10.0) -> dict:
    """Run every action for ``warmup + duration`` seconds; per action and totals over the measured part."""
    asyncio.run(_run_all(actions, base_url, warmup, duration, grace))
    out: dict = {"actions": {}, "duration_s": duration, "warmup_s": warmup}
    totals = {"write": [0, 0], "read": [0, 0]}  # ok, errors
    for action in actions:
        lat = sorted(x * 1000 for x in action.stats.latencies)
        errors = sum(action.stats.errors.values())
        out["actions"][action.name] = {
            "kind": action.kind,
            "offered_rps": action.rate,
            "ok": action.stats.ok,
            "rps": round(action.stats.ok / duration, 1),
            "errors": errors,
            "error_kinds": dict(action.stats.errors),
            "error_sample": action.stats.sample[:300],
            "latency_ms": {f"p{q}": round(percentile(lat, q), 1) for q in (50, 95, 99)}
            | {"max": round(lat[-1], 1) if lat else 0.0},
        }
        totals[action.kind][0] += action.stats.ok
        totals[action.kind][1] += errors
    out["writes_per_s"] = round(totals["write"][0] / duration, 1)
    out["reads_per_s"] = round(totals["read"][0] / duration, 1)
    out["errors"] = totals["write"][1] + totals["read"][1]
    return out
