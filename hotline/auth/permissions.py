"""Who may do what: role checks and per-department data isolation, in one place."""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from hotline.models import Assignment, Case, Department, User

CENTRE_ROLES = ("agent", "dispatcher", "monitor", "supervisor", "admin")
STAFF_ROLES = (*CENTRE_ROLES, "department_handler", "department_admin")


class Forbidden(Exception):
    def __init__(self, message: str = "您没有权限执行此操作"):
        self.message = message
        super().__init__(message)


class Unauthenticated(Exception):
    message = "请先登录或提供有效的 API 令牌"


def check_role(user, *roles: str) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Unauthenticated()
    if user.role != "admin" and user.role not in roles:
        raise Forbidden()


def require_role(*roles: str):
    """Decorator for views: the current user must have one of ``roles`` (admin always passes)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            check_role(current_user, *roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def department_scope(user: User) -> Department | None:
    """The unit whose cases (with sub-units') a department user sees; None for centre staff."""
    return user.department if user.is_department_user else None


def visible_cases_filter(user: User):
    """A SQL condition limiting Case rows to what ``user`` may see."""
    scope = department_scope(user)
    if scope is None:
        return sa.true()
    return sa.exists().where(
        Assignment.case_id == Case.id,
        Assignment.department_id == Department.id,
        Department.path.startswith(scope.path),
    )


def can_view_case(user: User, case: Case) -> bool:
    scope = department_scope(user)
    if scope is None:
        return user.role in STAFF_ROLES
    return any(a.department.path.startswith(scope.path) for a in case.assignments)


def sees_personal_data(user: User, case: Case | None = None) -> bool:
    """Department users never see the reporter of a confidential case, and see masked numbers otherwise."""
    return user.role in CENTRE_ROLES


def page_role_guard(*roles: str):
    """before_request hook for a page blueprint: log in first, then the role check."""

    def guard():
        if not current_user.is_authenticated:
            from flask import redirect, url_for

            return redirect(url_for("auth.login", next=request.full_path))
        if current_user.role != "admin" and current_user.role not in roles:
            abort(403)
        return None

    return guard
