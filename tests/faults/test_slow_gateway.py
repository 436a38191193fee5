"""A slow SMS gateway (2 s per message) never delays the SLA sweep or routing: queues by urgency, one worker per
queue as in production (docs/operations.md). The same load on one worker listening on every queue is measured
too, to show what the separate workers buy (there the sweep waits for the relay's whole batch)."""

from __future__ import annotations

import time

import pytest

from hotline.jobs import DEFAULT, NOTIFY, RELAY_OUTBOX, ROUTE_CASES, ROUTING, SLA
from tests import counts
from tests.faults.relay_stack import RelayStack, SmsGateway

SWEEP_SLA = "workers.jobs.sla.sweep_sla"  # what the scheduler enqueues every minute (workers/schedule.py)
SMS, DELAY = 10, 2.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = RelayStack(tmp_path_factory.mktemp("slow"))
    try:
        live.flask("db", "upgrade")
        live.flask("seed", "--demo")  # units, SLA policy: the sweep and the router run on a real city
        yield live
    finally:
        live.close()


def _seconds(delta) -> float:
    return round(delta.total_seconds(), 1)


def _run(stack: RelayStack, workers: dict[str, str]) -> dict:
    """Start ``workers`` (name -> queues), give the relay 10 SMS for the slow gateway, and while it sends them
    enqueue the SLA sweep and the routing job; returns how late each started and when all was done."""
    stack.empty_queues()
    refs = stack.queue_sms(SMS)
    gateway = SmsGateway(delay=DELAY)
    try:
        for name, queues in workers.items():
            stack.start_worker(name, queues, gateway=gateway)
        stack.wait_workers(*workers)
        started = time.monotonic()
        relay = stack.enqueue(RELAY_OUTBOX, NOTIFY)
        assert gateway.first.wait(60), stack.logs()  # the relay is now inside a 2 s gateway call
        time.sleep(0.5)
        urgent = {"sla": stack.enqueue(SWEEP_SLA, SLA), "routing": stack.enqueue(ROUTE_CASES, ROUTING)}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(j.get_status(refresh=True) in ("finished", "failed") for j in [relay, *urgent.values()]):
                break
            time.sleep(0.1)
        sent_in = time.monotonic() - started
        for job in [relay, *urgent.values()]:
            job.refresh()
            assert job.get_status() == "finished", f"{job.func_name}: {job.get_status()}\n{stack.logs()}"
    finally:
        stack.stop_workers()
        gateway.close()
    assert stack.statuses(refs) == {"sent": SMS}
    out = {
        name: (_seconds(j.started_at - j.enqueued_at), _seconds(j.ended_at - j.enqueued_at))
        for name, j in urgent.items()
    }
    out["sms"] = (sum(gateway.delivered[r] for r in refs), round(sent_in, 1))
    return out


def test_slow_gateway_never_delays_the_sla_sweep_or_routing(stack):
    per_queue = _run(stack, {"routing": ROUTING, "sla": SLA, "notify": NOTIFY, "default": DEFAULT})
    one = _run(stack, {"all": ""})  # one worker on every queue, in priority order (the embedded `make run`)

    (sla_late, sla_done), (routing_late, routing_done), (sent, sent_in) = (
        per_queue["sla"],
        per_queue["routing"],
        per_queue["sms"],
    )
    assert sent == SMS and sent_in >= SMS * DELAY
    assert sla_late < 1.0 and routing_late < 1.0, per_queue
    assert one["sla"][0] > 5 * DELAY, one  # without its own worker the sweep waits for the relay's batch
    counts.report(
        f"slow gateway ({DELAY:.0f} s per SMS), a worker per queue: sla sweep late by {sla_late} s (done after "
        f"{sla_done} s), routing late by {routing_late} s (done after {routing_done} s), {sent} SMS sent in {sent_in} s"
    )
    counts.report(
        f"slow gateway, one worker on all queues: sla sweep late by {one['sla'][0]} s, routing late by "
        f"{one['routing'][0]} s (why production runs a worker per queue)"
    )
