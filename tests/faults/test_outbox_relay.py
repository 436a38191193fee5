"""The outbox relay never sends twice: a real ``flask worker`` SIGKILLed mid-batch, then relayed again.

The fake gateway delivers the 16th of 40 SMS and never answers: the relay is killed while the gateway has taken
a message the relay does not know was sent — the worst moment. A relay holds one outside message at a time, so
that message is the only one whose fate is unknown; it is claimed again when its lease expires and sent with the
same key. Measured with a gateway that honours the key (0 sent twice) and one that ignores it (1 sent twice: at
most once more, and only the message in flight).
"""

from __future__ import annotations

import time

import pytest

from hotline.jobs import NOTIFY, RELAY_OUTBOX
from tests import counts
from tests.faults.relay_stack import RelayStack, SmsGateway

N, HOLD_AT, LEASE = 40, 16, 3.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = RelayStack(tmp_path_factory.mktemp("relay"))
    try:
        live.flask("db", "upgrade")
        yield live
    finally:
        live.close()


@pytest.mark.parametrize("honour", [True, False], ids=["gateway-honours-key", "gateway-ignores-key"])
def test_relay_killed_mid_batch_sends_nothing_twice(stack, honour):
    stack.empty_queues()
    refs = stack.queue_sms(N)
    gateway = SmsGateway(honour_key=honour, delay=0.02, hold_at=HOLD_AT, probe=stack.no_transaction_open)
    try:
        stack.enqueue(RELAY_OUTBOX, NOTIFY, lease=LEASE)  # a short lease: the test waits for it to expire
        stack.start_worker("relay", NOTIFY, gateway=gateway)
        assert gateway.held.wait(90), stack.logs()
        killed_at = time.monotonic()
        stack.kill("relay")  # SIGKILL while the gateway holds the 16th message
        in_flight = stack.statuses(refs)
        assert in_flight == {"sent": HOLD_AT - 1, "sending": 1, "pending": N - HOLD_AT}, in_flight

        time.sleep(max(0.0, killed_at + LEASE + 0.5 - time.monotonic()))  # the dead relay's lease expires
        stack.enqueue(RELAY_OUTBOX, NOTIFY)
        stack.start_worker("relay-again", NOTIFY, burst=True, gateway=gateway)
        assert stack.wait_exit("relay-again") == 0, stack.logs()
    finally:
        gateway.close()

    assert stack.statuses(refs) == {"sent": N}
    mine = [p for p in gateway.posts if p["ref"] in set(refs)]
    assert all(p["key"] == p["ref"] for p in mine)  # the Idempotency-Key header carries the outbox id too
    assert not gateway.probe_failures, "a gateway call was made with a transaction open"
    twice = gateway.twice(refs)
    assert {ref for ref in refs if gateway.delivered[ref] == 0} == set()
    if honour:
        assert twice == 0 and len(mine) == N + 1  # the held message was posted again and answered "duplicate"
        counts.report(
            f"relay killed mid-batch: {N} messages, {twice} sent twice (gateway honours key; {len(mine)} posts, "
            f"{len(mine) - N} resend deduplicated), {len(mine) - len(gateway.probe_failures)}/{len(mine)} "
            "gateway calls with no transaction open"
        )
    else:
        assert twice <= 1 and len(mine) == N + 1  # at most once more: only the message in flight at the kill
        counts.report(
            f"relay killed mid-batch: {N} messages, {twice} sent twice (gateway ignores key: the one in flight)"
        )


def test_two_relays_at_once_claim_each_message_once(stack):
    stack.empty_queues()
    refs = stack.queue_sms(N)
    gateway = SmsGateway(honour_key=False, delay=0.05)  # every post counts: a double claim would show
    try:
        for name in ("relay-a", "relay-b"):
            stack.start_worker(name, NOTIFY, gateway=gateway)
        stack.wait_workers("relay-a", "relay-b")
        jobs = [stack.enqueue(RELAY_OUTBOX, NOTIFY) for _ in range(2)]  # one each: both relay at the same time
        deadline = time.monotonic() + 60
        while stack.statuses(refs) != {"sent": N} and time.monotonic() < deadline:
            time.sleep(0.2)
        while any(j.get_status(refresh=True) != "finished" for j in jobs) and time.monotonic() < deadline:
            time.sleep(0.1)
        for j in jobs:
            j.refresh()
        handled = sorted(j.return_value() or 0 for j in jobs)
        workers = {j.worker_name for j in jobs}
    finally:
        stack.stop_workers()
        gateway.close()
    assert stack.statuses(refs) == {"sent": N}, stack.logs()
    twice = gateway.twice(refs)
    assert twice == 0 and sum(gateway.delivered[r] for r in refs) == N
    assert len(workers) == 2 and min(handled) > 0, (workers, handled)  # both relays really worked at once
    counts.report(
        f"two relays at once: {N} messages, {N} delivered, {twice} sent twice "
        f"(the relays handled {handled[0]} + {handled[1]})"
    )
