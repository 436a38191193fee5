"""Web, worker and scheduler started from the project's CLI share one Redis and one database."""

from __future__ import annotations

import time

import requests


def _wait(predicate, timeout: float = 20.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_case_flow_through_live_processes(stack):
    agent = {"Authorization": f"Bearer {stack.token('agent1')}"}
    dispatcher = {"Authorization": f"Bearer {stack.token('dispatcher1')}"}
    handler = {"Authorization": f"Bearer {stack.token('handler_jtj')}"}
    body = {
        "channel": "phone",
        "kind": "complaint",
        "content": "12路公交车经常不按站停车，乘客无法上车。",
        "citizen_phone": "13800138000",
        "citizen_name": "李四",
        "category": "交通运输",
    }
    resp = requests.post(stack.url + "/api/v1/cases", json=body, headers=agent, timeout=10)
    assert resp.status_code == 201, resp.text
    number = resp.json()["number"]
    resp = requests.post(
        f"{stack.url}/api/v1/cases/{number}/dispatch", json={"department_code": "JTJ"}, headers=dispatcher, timeout=10
    )
    assert resp.status_code == 200, resp.text

    # The dispatch queued an outbox message; the separate worker process relays it after the commit.
    def delivered():
        items = requests.get(stack.url + "/api/v1/notifications", headers=handler, timeout=10).json()["items"]
        return [n for n in items if n["case_number"] == number]

    notices = _wait(delivered)
    assert notices, stack.log("worker")
    assert "交通运输局" in notices[0]["text"] and "签收" in notices[0]["text"]
    assert (
        requests.get(f"{stack.url}/api/v1/cases/{number}", headers=handler, timeout=10).json()["status"] == "dispatched"
    )


def test_scheduler_registers_and_enqueues(stack):
    assert _wait(lambda: "Enqueued job relay_outbox" in stack.log("scheduler")), stack.log("scheduler")
    assert _wait(lambda: "relay_outbox" in stack.log("worker")), stack.log("worker")


def test_healthz_reports_both_backends(stack):
    body = requests.get(stack.url + "/healthz", timeout=5).json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_cti_simulator_cli_posts_signed_events(stack):
    out = stack.flask(
        "cti", "simulate", "--url", stack.url, "--caller", "13700001111", "--agent", "agent2", "--talk", "1"
    )
    call_id = out.strip().splitlines()[-1]
    assert call_id.startswith("sim-")
    assert "ringing:" in out and "'status': 'ended'" in out
    token = stack.token("agent2")
    file = requests.get(
        stack.url + "/api/v1/citizens/lookup?phone=13700001111",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    ).json()["citizen"]
    call = next(c for c in file["calls"] if c["call_id"] == call_id)
    assert call["status"] == "ended" and call["duration_seconds"] >= 1
