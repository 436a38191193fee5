"""Readable, sortable case numbers: GD20261122-000123 (a per-day sequence, shared by all processes)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import connect_redis, db
from hotline.models import Case

# INCR the day's counter, but never hand out a number at or below the highest one already stored
# (covers a Redis that lost its data): ARGV[1] is that highest sequence.
_NEXT = """
local v = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if v <= floor then
  v = floor + 1
  redis.call('SET', KEYS[1], v)
end
redis.call('EXPIRE', KEYS[1], 259200)
return v
"""


def next_number(now: datetime, prefix: str = "GD") -> str:
    settings = current_app.config["HOTLINE"]
    day = now.astimezone(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    head = f"{prefix}{day}-"
    highest = db.session.scalar(
        sa.select(Case.number).where(Case.number.like(head + "%")).order_by(Case.number.desc()).limit(1)
    )
    floor = int(highest[len(head):]) if highest else 0
    seq = connect_redis(settings).eval(_NEXT, 1, f"hotline:case_seq:{head}", floor)
    return f"{head}{int(seq):06d}"
