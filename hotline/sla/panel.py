"""What the case page shows about time limits (templates/cases/_sla.html): cards, pauses, extensions,
supervisions, the colour of the lead unit's milestones, and which time-limit forms the viewer may use."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hotline.auth.permissions import can
from hotline.cases.workflow import AssignmentState
from hotline.extensions import db
from hotline.models import Case, SlaCard, SlaExtension, SlaPause, Supervision, User
from hotline.sla import supervision as sup
from hotline.sla import timers
from hotline.sla.queries import milestone_levels

MILESTONE_LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}
SUPERVISION_LEVELS = sup.SUPERVISION_LEVELS
EXTENSION_STATUS = {"pending": "待审批", "approved": "已同意", "denied": "未同意"}


def panel(case: Case, user: User) -> dict:
    """The case page's time-limit section: cards, pauses, extensions, supervisions, and the forms ``user`` may use."""
    cards = db.session.scalars(sa.select(SlaCard).where(SlaCard.case_id == case.id).order_by(SlaCard.id)).all()
    pauses = db.session.scalars(sa.select(SlaPause).where(SlaPause.case_id == case.id).order_by(SlaPause.id)).all()
    extensions = db.session.scalars(
        sa.select(SlaExtension).where(SlaExtension.case_id == case.id).order_by(SlaExtension.id)
    ).all()
    orders = db.session.scalars(
        sa.select(Supervision).where(Supervision.case_id == case.id).order_by(Supervision.id)
    ).all()
    own = next(
        (
            a
            for a in reversed(case.assignments)
            if user.is_department_user and a.department_id == user.department_id and a.status == AssignmentState.SIGNED
        ),
        None,
    )
    forms = []
    if own is not None:
        forms.append("resume" if own.paused_at else "pause")
        if (
            can(user, "case.extension")
            and own.extensions_used < sup.MAX_EXTENSIONS
            and not any(e.status == "pending" and e.assignment_id == own.id for e in extensions)
        ):
            forms.append("extension")
    if user.is_department_user and any(
        o.department_id == user.department_id and o.acknowledged_at is None for o in orders
    ):
        forms.append("supervise_ack")
    if can(user, "case.extension_decide") and any(e.status == "pending" for e in extensions):
        forms.append("extension_decision")
    if can(user, "case.supervise") and any(a.status in timers.ACTIVE for a in case.assignments):
        forms.append("supervise")
    levels = milestone_levels([a for a in case.assignments if a.status in timers.ACTIVE], datetime.now(UTC))
    lead = case.lead_assignment()
    lead_levels = {m: levels.get((lead.id, m)) for m in ("sign", "contact", "reply")} if lead else {}
    return {
        "labels": MILESTONE_LABELS,
        "levels": SUPERVISION_LEVELS,
        "ext_status": EXTENSION_STATUS,
        "cards": cards,
        "pauses": pauses,
        "extensions": extensions,
        "supervisions": orders,
        "forms": forms,
        "own": own,
        "lead_levels": lead_levels,
    }
