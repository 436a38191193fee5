"""Readable, sortable case numbers: GD20261122-000123 (a per-day sequence, shared by all processes)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import connect_redis, db
from hotline.models import Case

# The day's counter lives in Redis (atomic across processes). When the key is missing (a new day, or a
# Redis that lost its data) it is seeded from the highest number stored, under a short lock, so a number
# is never handed out twice.
_NEXT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[1] == '' then return false end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 259200)
end
return redis.call('INCR', KEYS[1])
"""


def next_number(now: datetime, prefix: str = "GD") -> str:
    settings = current_app.config["HOTLINE"]
    day = now.astimezone(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    head = f"{prefix}{day}-"
    key = f"hotline:case_seq:{head}"
    redis = connect_redis(settings)
    seq = redis.eval(_NEXT, 1, key, "")  # one round trip on the hot path
    if seq is None:
        highest = db.session.scalar(
            sa.select(Case.number).where(Case.number.like(head + "%")).order_by(Case.number.desc()).limit(1)
        )
        seq = redis.eval(_NEXT, 1, key, int(highest[len(head) :]) if highest else 0)
    return f"{head}{int(seq):06d}"
