"""Department portal: the unit's inbox (its own and its sub-units' assignments) and recent history."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, render_template, request
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, department_scope, requires
from hotline.cases.workflow import AssignmentState
from hotline.extensions import db
from hotline.models import Assignment, Department
from hotline.sla.queries import milestone_levels

departments_bp = Blueprint("departments", __name__)
departments_bp.before_request(authenticate_page)

INBOX_LIMIT = 300
HISTORY_LIMIT = 50


def _assignments(scope: Department, statuses: tuple[str, ...]):
    return (
        sa.select(Assignment)
        .join(Department, Assignment.department_id == Department.id)
        .where(Department.path.startswith(scope.path), Assignment.status.in_(statuses))
        .options(so.selectinload(Assignment.case))
    )


@departments_bp.get("/")
@requires("department.inbox")
def inbox():
    scope = department_scope(current_user)
    tab = "history" if request.args.get("tab") == "history" else "open"
    open_rows, history = [], []
    if scope is not None:
        pending = Assignment.status == AssignmentState.PENDING
        # unsigned first (by sign deadline), then those in hand (by reply deadline)
        order = (
            sa.case((pending, 0), else_=1),
            sa.case((pending, Assignment.deadline_sign), else_=Assignment.deadline_reply),
        )
        open_rows = db.session.scalars(
            _assignments(scope, (AssignmentState.PENDING, AssignmentState.SIGNED)).order_by(*order).limit(INBOX_LIMIT)
        ).all()
        history = db.session.scalars(
            _assignments(scope, (AssignmentState.REPLIED, AssignmentState.RETURNED))
            .order_by(Assignment.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
    levels = milestone_levels(open_rows, datetime.now(UTC))  # colours from the SLA cards (working time)
    return render_template(
        "departments/inbox.html", scope=scope, tab=tab, open_rows=open_rows, history=history, levels=levels
    )
