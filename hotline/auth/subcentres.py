"""分中心 (sub-centres): a district that runs its own hotline staff. A unit flag (``departments.subcentre``); the
centre roles (agent, dispatcher, monitor, supervisor) whose unit is such a district — or a unit within it — are
that sub-centre's staff, and everything they see is scoped to the district: a case is theirs when it happens in
the district (``cases.district_id`` within it), is handled by one of its units, or was registered by one of them.
The admin is never scoped. Used by hotline/auth/permissions.py (``visible_cases_filter``, ``can_view_case``) so
queues, the console, dispatch, search and statistics follow without code of their own."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from hotline.auth.roles import CENTRE, Role
from hotline.extensions import db
from hotline.models import Assignment, Case, Department, User

SCOPED_ROLES = CENTRE - {Role.ADMIN}
LIVE = ("pending", "signed", "replied", "delegated")


def subcentre_of(user: User) -> Department | None:
    """The sub-centre district ``user`` works for, or None (the city centre's staff, department users, admin)."""
    if getattr(user, "role", None) not in SCOPED_ROLES or getattr(user, "department_id", None) is None:
        return None
    unit = user.department
    while unit is not None:
        if unit.subcentre:
            return unit
        unit = unit.parent
    return None


def case_filter(district: Department, user: User):
    """SQL: the cases of the sub-centre ``district``."""
    place = aliased(Department)
    unit = aliased(Department)
    return sa.or_(
        sa.exists().where(place.id == Case.district_id, place.path.startswith(district.path)),
        sa.exists().where(
            Assignment.case_id == Case.id,
            Assignment.status.in_(LIVE),
            Assignment.department_id == unit.id,
            unit.path.startswith(district.path),
        ),
        Case.created_by_id.in_(
            sa.select(User.id)
            .join(Department, Department.id == User.department_id)
            .where(Department.path.startswith(district.path))
        ),
    )


def case_visible(district: Department, case: Case) -> bool:
    if case.district is not None and case.district.path.startswith(district.path):
        return True
    if any(a.status in LIVE and a.department.path.startswith(district.path) for a in case.assignments):
        return True
    if case.created_by_id is not None:
        creator = db.session.get(User, case.created_by_id)
        return (
            creator is not None and creator.department is not None and creator.department.path.startswith(district.path)
        )
    return False
