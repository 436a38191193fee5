"""Read side of the 差评 loop: the workbench queue, a record's JSON, the revisit-rate figure."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models import Department, Rectification
from hotline.ratings.rectification import APPEAL, MODES, OPEN_STAGES, OUTCOMES, STAGES


def _iso(dt):
    return dt.isoformat() if dt else None


def to_dict(rect: Rectification) -> dict:
    rating = rect.rating
    return {
        "id": rect.id,
        "case_number": rect.case.number,
        "case_status": rect.case.status,
        "department_code": rect.department.code if rect.department else None,
        "department_name": rect.department.name if rect.department else None,
        "stage": rect.stage,
        "stage_label": STAGES[rect.stage],
        "outcome": rect.outcome,
        "outcome_label": OUTCOMES.get(rect.outcome or ""),
        "mode": rect.mode,
        "mode_label": MODES.get(rect.mode or ""),
        "due_at": _iso(rect.due_at),
        "card": rect.card,
        "rating": rating.to_dict(),
        "revisit_rating": rect.revisit_rating.to_dict() if rect.revisit_rating else None,
        "verify_note": rect.verify_note,
        "verified_at": _iso(rect.verified_at),
        "rectify_note": rect.rectify_note,
        "rectified_at": _iso(rect.rectified_at),
        "explanation": rect.explanation,
        "revisited_at": _iso(rect.revisited_at),
        "appeal": {
            "status": rect.appeal_status,
            "label": APPEAL.get(rect.appeal_status or ""),
            "reason": rect.appeal_reason,
            "note": rect.appeal_note,
        },
        "result": rect.result,
        "created_at": _iso(rect.created_at),
        "closed_at": _iso(rect.closed_at),
        "version": rect.version,
    }


def queue(
    stage: str | None = None, department: Department | None = None, appeals: bool = False, limit: int = 300
) -> list[Rectification]:
    query = sa.select(Rectification).options(so.selectinload(Rectification.rating), so.selectinload(Rectification.case))
    if appeals:
        query = query.where(Rectification.appeal_status == "pending")
    elif stage == "open":
        query = query.where(Rectification.stage.in_(OPEN_STAGES))
    elif stage:
        query = query.where(Rectification.stage == stage)
    if department is not None:
        query = query.join(Department, Rectification.department_id == Department.id).where(
            Department.path.startswith(department.path)
        )
    done = stage in ("closed", "reopened")
    order = Rectification.closed_at.desc() if done else sa.func.coalesce(Rectification.due_at, Rectification.created_at)
    return list(db.session.scalars(query.order_by(order, Rectification.id).limit(limit)))


def stage_counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(Rectification.stage, sa.func.count()).group_by(Rectification.stage)).all()
    counts = dict.fromkeys(STAGES, 0)
    counts.update(dict(rows))
    counts["appeals"] = db.session.scalar(
        sa.select(sa.func.count()).select_from(Rectification).where(Rectification.appeal_status == "pending")
    )
    return counts


def revisit_rate() -> dict:
    """Every named 差评 is revisited: of the records concluded (closed or reopened), how many had a revisit
    (the revisit call/rating, or the explanation call). A record cannot conclude without one."""
    concluded = (
        sa.select(sa.func.count()).select_from(Rectification).where(Rectification.stage.in_(("closed", "reopened")))
    )
    total = db.session.scalar(concluded)
    revisited = db.session.scalar(concluded.where(Rectification.revisited_at.is_not(None)))
    pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(Rectification).where(Rectification.stage.in_(OPEN_STAGES))
    )
    rate = (revisited / total) if total else None
    return {
        "concluded": total,
        "revisited": revisited,
        "pending": pending,
        "rate": rate,
        "rate_label": f"{rate * 100:.0f}%" if rate is not None else "—",
    }
