"""Queues by urgency: the cron table and the app's enqueues use them, ``flask worker --queues`` parses them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.jobs import (
    FETCH_MEDIA,
    FETCH_WECHAT_MEDIA,
    JOB_QUEUES,
    MAKE_THUMBNAIL,
    QUEUES,
    RELAY_OUTBOX,
    ROUTE_CASES,
    queue_of,
)
from workers.jobs.outbox import BACKOFF_MAX, MAX_ATTEMPTS, backoff
from workers.run import parse_queues


def test_queues_in_order_of_urgency():
    assert QUEUES == ("routing", "sla", "notify", "media", "default")  # media: thumbnails, fetched media (issue 18)
    assert JOB_QUEUES == {
        RELAY_OUTBOX: "notify",
        ROUTE_CASES: "routing",
        MAKE_THUMBNAIL: "media",
        FETCH_MEDIA: "media",
        FETCH_WECHAT_MEDIA: "media",
    }
    assert queue_of("workers.jobs.kb.kb_expiry") == "default"


def test_cron_table_puts_each_job_on_its_urgency_queue():
    from workers.schedule import CRON_TABLE

    queues = {func.__name__: queue for func, queue, _ in CRON_TABLE}
    assert set(queues.values()) <= set(QUEUES)
    urgent = ("relay_outbox", "relay_webhooks", "sweep_sla", "sweep_rectifications", "route_cases", "thumbnail_sweep")
    assert [queues[name] for name in urgent] == ["notify", "notify", "sla", "sla", "routing", "media"]
    # everything else (KB expiry, pruning, retraining) waits on `default`, behind nothing urgent
    assert {q for name, q in queues.items() if name not in urgent} == {"default"}


@pytest.mark.parametrize(
    ("text", "queues"),
    [
        ("", QUEUES),
        ("routing,sla", ("routing", "sla")),
        (" notify ", ("notify",)),
        ("sla,sla,routing", ("sla", "routing")),
    ],
)
def test_worker_queues_option(text, queues):
    assert parse_queues(text) == queues


def test_unknown_queue_is_refused_in_chinese():
    with pytest.raises(ValueError, match="未知的队列：notifications"):
        parse_queues("routing,notifications")


def test_relay_backs_off_then_gives_up():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert backoff(MAX_ATTEMPTS) == timedelta(seconds=BACKOFF_MAX)
    total = sum((backoff(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(minutes=55) < total < timedelta(minutes=65)  # a gateway outage of about an hour loses nothing
