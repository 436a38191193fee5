"""Case numbers: per-day sequence shared through Redis, re-seeded from the database if Redis forgot it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.extensions import connect_redis
from tests.helpers import new_case


def test_numbers_are_sequential_and_survive_a_redis_that_lost_its_keys(app, api, phone):
    first = new_case(api("agent1"), phone)["number"]
    second = new_case(api("agent1"), phone)["number"]
    head, seq = first.rsplit("-", 1)
    assert second == f"{head}-{int(seq) + 1:06d}"
    assert head == "GD" + datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    redis = connect_redis(app.config["HOTLINE"])
    redis.delete(f"hotline:case_seq:{head}-")  # Redis restarted without persistence
    third = new_case(api("agent1"), phone)["number"]
    assert third == f"{head}-{int(seq) + 2:06d}"
