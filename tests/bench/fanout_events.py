"""Where the ``socket_fanout`` benchmark's events come from, at what rates, and how their delivery is counted:
a write-only Socket.IO manager publishing into the room, real REST dispatches, latency per (client, event)."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.bench.load import percentile

ROOM, NAMESPACE, DEPARTMENT = "department:ZJJ", "/console", "ZJJ"
CHANNEL = "hotline-socketio"  # hotline/__init__.py: RedisManager(redis_url, channel="hotline-socketio")
EVENT_RATE = 5.0  # the stress phase: events/s into the room (``--fanout-events`` of them)
LOW_RATE, LOW_EVENTS = 1.0, 10  # the calm phase first: one event a second
REST_EVENTS = 10


def publish_events(redis_url: str, n: int, rate: float, prefix: str = "bench") -> dict[str, float]:
    """Emit ``case.updated`` to the room from a write-only manager (another process than the web server)."""
    import socketio

    manager = socketio.RedisManager(redis_url, channel=CHANNEL, write_only=True)
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for i in range(n):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        key = f"{prefix}-{i}"
        now = time.time()
        manager.emit(
            "case.updated",
            {
                "number": f"BENCH{i:06d}",
                "status": "dispatched",
                "version": 2,
                "action": "dispatch",
                "department_code": DEPARTMENT,
                "cursor": i,
                "bench_id": key,
                "sent_at": now,
            },
            namespace=NAMESPACE,
            room=ROOM,
        )
        sent[key] = now
    return sent


def _api(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(  # noqa: S310 — http://127.0.0.1 only
        url + path,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 — http://127.0.0.1 only
        return json.loads(resp.read())


def rest_dispatches(
    url: str, agent: str, dispatcher: str, n: int, rate: float
) -> tuple[dict[str, float], list, list[str]]:
    """Create ``n`` cases and dispatch each to ZJJ: {number: moment the dispatch request was sent}, the
    dispatch requests' durations (ms) and the errors of requests that failed (timeouts included)."""
    numbers, errors = [], []
    for i in range(n):
        try:
            case = _api(
                url,
                agent,
                "POST",
                "/api/v1/cases",
                {
                    "channel": "phone",
                    "kind": "complaint",
                    "content": f"楼道照明损坏，请尽快维修（扇出测试 {i}）",
                    "citizen_phone": f"1370000{i:04d}",
                    "citizen_name": "测试",
                    "address": "人民路1号",
                },
            )
            numbers.append(case["number"])
        except (OSError, ValueError) as exc:
            errors.append(f"create: {type(exc).__name__}: {exc}"[:160])
    time.sleep(0.5)
    sent: dict[str, float] = {}
    answers = []
    for number in numbers:
        t0 = time.time()
        try:
            _api(
                url,
                dispatcher,
                "POST",
                f"/api/v1/cases/{number}/dispatch",
                {"department_code": DEPARTMENT, "role": "lead"},
            )
        except (OSError, ValueError) as exc:
            errors.append(f"dispatch: {type(exc).__name__}: {exc}"[:160])
            continue
        answers.append((time.time() - t0) * 1000)
        sent[number] = t0
        time.sleep(1 / rate)
    return sent, answers, errors


def delivery_stats(received: list[list], sent: dict[str, float]) -> dict:
    """Latency of every (client, event) delivery, completeness, and per-event time to the last client."""
    latencies: list[float] = []
    per_event_last: dict[str, float] = {}
    complete = 0
    for events in received:
        got = set()
        for key, at in events:
            if key in sent:
                ms = (at - sent[key]) * 1000
                latencies.append(ms)
                got.add(key)
                per_event_last[key] = max(per_event_last.get(key, 0.0), ms)
        complete += len(got) == len(sent)
    latencies.sort()
    last = sorted(per_event_last.values())
    expected = len(received) * len(sent)
    return {
        "events": len(sent),
        "clients": len(received),
        "deliveries": len(latencies),
        "expected": expected,
        "delivered_pct": round(100 * len(latencies) / expected, 2) if expected else 0.0,
        "clients_with_every_event_pct": round(100 * complete / len(received), 2) if received else 0.0,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(latencies[-1], 1) if latencies else 0.0,
            "min": round(latencies[0], 1) if latencies else 0.0,
        },
        "last_client_ms": {"p50": round(percentile(last, 50), 1), "max": round(last[-1], 1) if last else 0.0},
    }
