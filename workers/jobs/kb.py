"""KB validity (RQ cron, hourly): warn the owning unit before an entry's validity ends; retire expired entries.

Idempotent: ``expiry_warned_on`` remembers which end date was warned about; retiring goes through the
lifecycle (a version and an index change), so a second run finds nothing to do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from hotline.auth.roles import Role
from hotline.channels.notify import notify_department, notify_role
from hotline.extensions import db
from hotline.kb import entries
from hotline.models import KbEntry
from workers.context import job

WARN_DAYS = 30


def check_expiry(today: date, now: datetime) -> dict:
    warned = retired = 0
    due = db.session.scalars(
        sa.select(KbEntry).where(
            KbEntry.status == "published",
            KbEntry.valid_to.is_not(None),
            KbEntry.valid_to <= today + timedelta(days=WARN_DAYS),
        )
    )
    for entry in due:
        if entry.valid_to < today:
            note = f"有效期已于 {entry.valid_to.isoformat()} 结束，自动下线"
            entries.transition(entry, "retire", None, now, note=note)
            retired += 1
            continue
        if entry.expiry_warned_on == entry.valid_to:
            continue
        text = (
            f"知识条目「{entry.title}」（{entry.code or entry.id}）将于 {entry.valid_to.isoformat()} 失效，"
            f"请及时核实更新或延长有效期"
        )
        if entry.department_id:
            notify_department(entry.department_id, text)
        else:
            notify_role(Role.ADMIN, text)
        entry.expiry_warned_on = entry.valid_to
        warned += 1
    return {"warned": warned, "retired": retired}


@job
def kb_expiry(now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    return check_expiry(now.date(), now)
