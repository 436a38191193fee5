"""Time limits of the 差评 loop: a yellow card at 80 % of the current stage's working-day limit, a red card when
it has passed. Conditional UPDATEs make it idempotent (a second sweeper or a re-run cards nothing twice).
Flushes, never commits (workers/jobs/ratings.py commits)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.auth.roles import Role
from hotline.cases.timeline import record
from hotline.channels.notify import notify_department, notify_role
from hotline.extensions import db
from hotline.models import Case, Rectification
from hotline.ratings.rectification import STAGES
from hotline.realtime.publish import department_rooms, publish

TIMED = ("verifying", "rectifying", "revisiting", "explaining")
LEVEL_LABELS = {"yellow": "黄牌预警", "red": "红牌超时"}
LIMIT_NAMES = {
    "verifying": "rectify_verify",
    "rectifying": "rectify",
    "revisiting": "rectify_revisit",
    "explaining": "rectify_explain",
}
BATCH = 500


def sweep(now: datetime) -> list[tuple[int, str]]:
    """Card whatever crossed a threshold; returns [(rectification id, level)]."""
    R = Rectification
    due = db.session.scalars(
        sa.select(R)
        .where(
            R.stage.in_(TIMED),
            sa.or_(
                sa.and_(R.card.is_(None), R.yellow_at <= now),
                sa.and_(sa.or_(R.card.is_(None), R.card != "red"), R.due_at <= now),
            ),
        )
        .order_by(R.due_at)
        .limit(BATCH)
    ).all()
    done = []
    for rect in due:
        level = "red" if rect.due_at <= now else "yellow"
        previous = rect.card
        # claim: only one sweeper moves this record from its previous card to the new one
        claimed = db.session.execute(
            sa.update(R.__table__)
            .where(
                R.__table__.c.id == rect.id,
                R.__table__.c.stage == rect.stage,
                R.__table__.c.card.is_(None) if previous is None else R.__table__.c.card == previous,
            )
            .values(card=level)
        ).rowcount
        if claimed != 1:
            continue
        db.session.expire(rect, ["card"])
        case = db.session.get(Case, rect.case_id)
        what = f"差评{STAGES[rect.stage]}"
        event = record(
            case,
            f"{level}_card",
            None,
            case.status,
            case.status,
            actor_label="系统（时限监控）",
            department=rect.department,
            note=f"{what}{LEVEL_LABELS[level]}：时限 {rect.due_at.isoformat(timespec='minutes')}",
            data={
                "rectification_id": rect.id,
                "stage": rect.stage,
                "level": level,
                "limit": LIMIT_NAMES[rect.stage],
                "due_at": rect.due_at.isoformat(),
            },
        )
        db.session.flush()
        text = f"工单 {case.number} {what}{LEVEL_LABELS[level]}"
        rooms = ["role:supervisor"]
        if rect.stage == "rectifying" and rect.department_id:
            notify_department(rect.department_id, text, case.id)
            rooms += department_rooms(rect.department)
        notify_role(Role.SUPERVISOR, text, case.id)
        if level == "red":
            rooms.append("role:monitor")
        publish(
            "sla.card",
            {
                "number": case.number,
                "level": level,
                "limit": LIMIT_NAMES[rect.stage],
                "due_at": rect.due_at.isoformat(),
                "department_code": rect.department.code if rect.department else None,
                "cursor": event.id,
            },
            rooms,
        )
        done.append((rect.id, level))
    return done
