"""Who may do what, declared once: roles, the capability table, the view decorators, the loaders that check a
capability and the department isolation together, and the per-blueprint authentication hooks.

- ``CAPABILITIES`` (role -> capabilities) is the only place a role is granted anything; admin holds every one.
- Every view declares ``@requires("case.dispatch")`` or ``@public`` (tests/integration/test_capabilities.py walks
  the url_map); a case is loaded through ``access_case(user, number, capability)``.
- Failures raise ``Unauthenticated`` (401 / login page), ``Forbidden`` (403) or the domain ``NotFound`` (404);
  hotline/errors.py turns them into the JSON or HTML answer.
"""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import current_app, redirect, request, url_for
from flask_login import current_user

from hotline.auth import subcentres
from hotline.auth.roles import Role
from hotline.cases.errors import NotAllowed, NotFound
from hotline.db.dialect import autocommit_reads
from hotline.extensions import db
from hotline.models import Assignment, Case, Department, Rectification, User

R = Role

# What every staff member may do, whatever the role.
_STAFF_CAPS = {
    "case.view",  # cases the user's unit may see (department isolation in access_case / visible_cases_filter)
    "case.attach",  # add files (evidence, reply, rectification) to a case the user may see (hotline/evidence)
    "routing.suggest",
    "stats.view",  # scoped to the unit for department users
    "kb.view",
    "kb.feedback",
    "notification.view",
    "users.view",
    "account.tokens",  # one's own API tokens: list, create, revoke (hotline/users, issue 17)
    "export.create",  # XLSX/CSV exports of what the user may see (hotline/exports), personal data masked
}
# Centre staff: the console, the caller's file, SLA settings (read), routing results.
_CENTRE_CAPS = {
    "console.use",
    "citizen.view",  # the 一号一档 file and personal data on cases (masked)
    "citizen.records",
    "case.routing",
    "routing.duplicates",
    "sla.view",
}
# Department users: their unit's tasks.
_DEPARTMENT_CAPS = {
    "department.inbox",
    "case.sign",
    "case.contact",
    "case.reply",
    "case.return",
    "case.subdispatch",
    "case.pause",
    "case.supervise_ack",
    "kb.edit",
    "kb.feedback_view",
    "rating.view",
    "rating.rectify",
}

CAPABILITIES: dict[Role, frozenset[str]] = {
    R.AGENT: frozenset(
        _STAFF_CAPS
        | _CENTRE_CAPS
        | {"case.create", "case.answer", "case.close", "case.transfer", "citizen.edit", "citizen.unmask"}
    ),
    R.DISPATCHER: frozenset(
        _STAFF_CAPS
        | _CENTRE_CAPS
        | {
            "case.create",
            "case.close",
            "case.dispatch",  # dispatch, rule on returns, one-key accept of a suggestion
            "case.merge",
            "case.reclassify",
            "case.transfer",
            "dispatch.queue",
            "dispatch.returns",
            "routing.view",
        }
    ),
    R.MONITOR: frozenset(
        _STAFF_CAPS
        | _CENTRE_CAPS
        | {
            "case.create",
            "case.transfer",
            "case.extension_decide",
            "citizen.edit",
            "citizen.unmask",
            "dispatch.queue",
            "dispatch.returns",
            "routing.view",
            "monitor.view",
            "rating.view",
            "rating.queue",
            "alert.view",  # 预警 (hotline/alerts)
            "report.view",  # 月度通报 (hotline/reports)
        }
    ),
    R.SUPERVISOR: frozenset(
        _STAFF_CAPS
        | _CENTRE_CAPS
        | {
            "case.supervise",
            "case.publish",  # the public Open311 feed: publish a case or withdraw it (hotline/api/publication.py)
            "citizen.unmask",
            "dispatch.queue",
            "dispatch.returns",
            "routing.view",
            "monitor.view",
            "kb.feedback_view",
            "outbox.view",
            "rating.view",
            "rating.queue",
            "rating.review",
            "alert.view",
            "report.view",
            "report.generate",  # generate a 月度通报 now (it is also generated on the 1st of each month)
        }
    ),
    R.DEPARTMENT_HANDLER: frozenset(_STAFF_CAPS | _DEPARTMENT_CAPS | {"case.extension"}),
    R.DEPARTMENT_ADMIN: frozenset(
        _STAFF_CAPS | _DEPARTMENT_CAPS | {"dispatch.returns", "kb.review"}  # kb.review: approve, publish, retire
    ),
}
# the auditor (审计员, 等保): the audit log and its CSV export, nothing else — not even the case lists (issue 17)
CAPABILITIES[R.AUDITOR] = frozenset({"audit.view"})
ALL_CAPABILITIES = frozenset().union(*CAPABILITIES.values(), {"sla.admin", "routing.admin"})
ALL_CAPABILITIES |= {"privacy.admin"}  # personal-data export/erase and the retention report (hotline/privacy)
ALL_CAPABILITIES |= {"org.admin"}  # units and places: pages and API of hotline/org (issue 17)
ALL_CAPABILITIES |= {"users.admin"}  # staff accounts, their passwords and tokens: hotline/users (issue 17)
# connected (issue 21): the data-sharing feed for integration tokens; webhooks for admins; a dispatcher hands a
# case over to a peer hotline (case exchange, hotline/linkage)
CAPABILITIES[R.INTEGRATION] = frozenset({"feed.read"})
CAPABILITIES[R.DISPATCHER] = CAPABILITIES[R.DISPATCHER] | {"case.exchange"}
ALL_CAPABILITIES |= {"feed.read", "webhook.admin", "case.exchange"}
CAPABILITIES[R.ADMIN] = ALL_CAPABILITIES  # the system administrator may do everything

# Endpoints whose view functions are not the project's (Flask's static files); every other public view says @public.
PUBLIC_ENDPOINTS = frozenset({"static"})


class Forbidden(Exception):
    def __init__(self, message: str = "您没有权限执行此操作"):
        self.message = message
        super().__init__(message)


class Unauthenticated(Exception):
    message = "请先登录或提供有效的 API 令牌"


def can(user, capability: str) -> bool:
    """Whether ``user`` (authenticated or not) holds ``capability`` according to CAPABILITIES."""
    if not getattr(user, "is_authenticated", False):
        return False
    return capability in CAPABILITIES.get(user.role, frozenset())


def authorize(user, capability: str) -> None:
    """Raise Unauthenticated (no user) or Forbidden (the role lacks ``capability``)."""
    if not getattr(user, "is_authenticated", False):
        raise Unauthenticated()
    if not can(user, capability):
        raise Forbidden()


def _known(capability: str) -> str:
    if capability not in ALL_CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}: add it to CAPABILITIES in hotline/auth/permissions.py")
    return capability


def requires(capability: str):
    """View decorator: the current user must hold ``capability`` (401 / 403 otherwise)."""
    _known(capability)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            authorize(current_user, capability)
            return view(*args, **kwargs)

        wrapped._capability = capability
        return wrapped

    return decorator


def public(view):
    """View decorator: no login (citizens, machines that sign their requests, the login page, health)."""
    view._public = True
    return view


STAFF_MAY_NOT = (
    "工作人员不能代替市民操作：评价只能由市民本人通过短信或微信中收到的链接提交，请退出工作人员账号后再打开链接"
)


def citizen_only(view):
    """View decorator: @public, and for citizens alone — a request authenticated as staff (session or bearer
    token) is refused with 403 ``staff_cannot_rate`` (a rating by link is the citizen's own)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if getattr(current_user, "is_authenticated", False):
            raise NotAllowed(STAFF_MAY_NOT, code="staff_cannot_rate")
        return view(*args, **kwargs)

    wrapped._public = True
    wrapped._citizen_only = True
    return wrapped


def is_public(endpoint: str | None) -> bool:
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    return getattr(current_app.view_functions.get(endpoint), "_public", False)


def authenticate_api():
    """before_request of JSON blueprints: a bearer token or the session must authenticate (401 JSON otherwise).
    A ``@read_only`` view (hotline/db/dialect.py) reads without BEGIN/ROLLBACK from the token's user on."""
    if getattr(current_app.view_functions.get(request.endpoint), "_read_only", False):
        autocommit_reads()
    if not is_public(request.endpoint) and not current_user.is_authenticated:
        raise Unauthenticated()


def authenticate_page():
    """before_request of page blueprints: send anonymous users to the login page."""
    if not is_public(request.endpoint) and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    return None


def department_scope(user: User) -> Department | None:
    """The unit whose cases (with sub-units') a department user sees; None for centre staff."""
    return user.department if user.is_department_user else None


def statistics_scope(user: User) -> Department | None:
    """The unit subtree ``user``'s figures cover: a department user's unit, a sub-centre's district (分中心), or
    None (the whole city)."""
    return department_scope(user) or subcentres.subcentre_of(user)


# Isolation (docs/domain.md, "Who sees a case"): a unit (with its sub-units) reads a case while one of its
# assignments on it is live (pending, signed), handed on to a sub-unit (delegated) or stands as the unit's reply
# (replied: through the rating, the 差评 loop and after closing). A returned or cancelled task gives nothing: after
# returning a case (or after the dispatcher moved it) the unit no longer reads it.
VISIBLE_ASSIGNMENTS = ("pending", "signed", "replied", "delegated")


def visible_cases_filter(user: User):
    """A SQL condition limiting Case rows to what ``user`` may see."""
    scope = department_scope(user)
    if scope is None and (district := subcentres.subcentre_of(user)) is not None:
        return subcentres.case_filter(district, user)  # 分中心 staff: their district's cases
    if scope is None:
        return sa.false() if user.is_department_user else sa.true()  # a unit's user without a unit sees nothing
    return sa.exists().where(
        Assignment.case_id == Case.id,
        Assignment.status.in_(VISIBLE_ASSIGNMENTS),
        Assignment.department_id == Department.id,
        Department.path.startswith(scope.path),
    )


def can_view_case(user: User, case: Case) -> bool:
    scope = department_scope(user)
    if scope is None and (district := subcentres.subcentre_of(user)) is not None:
        return can(user, "case.view") and subcentres.case_visible(district, case)
    if scope is None:
        return can(user, "case.view") and not user.is_department_user
    return any(a.status in VISIBLE_ASSIGNMENTS and a.department.path.startswith(scope.path) for a in case.assignments)


def sees_personal_data(user: User, case: Case | None = None) -> bool:
    """Department users never see the reporter of a confidential case, and see masked numbers otherwise."""
    return can(user, "citizen.view")


def access_case(user: User, number: str, capability: str = "case.view") -> Case:
    """The case ``number`` for ``user`` to act on with ``capability``: 401/403 without the capability (the same
    answer whatever the number), 404 when there is no such case or the user's unit may not see it — one answer,
    so a department user cannot tell which case numbers exist."""
    authorize(user, _known(capability))
    queryable = len(number) <= 32 and "\x00" not in number
    case = db.session.scalar(sa.select(Case).where(Case.number == number)) if queryable else None
    if case is None or not can_view_case(user, case):
        raise NotFound("case_not_found", f"工单 {number[:40]} 不存在")
    return case


def access_rectification(user: User, rect_id: int, capability: str = "rating.view") -> Rectification:
    """A 差评 rectification for ``user`` with ``capability``; another unit's record is 404 (not even its existence)."""
    authorize(user, _known(capability))
    rect = db.session.get(Rectification, rect_id)
    scope = department_scope(user)
    if rect is None or (scope is not None and not (rect.department and rect.department.path.startswith(scope.path))):
        raise NotFound("rectification_not_found", f"差评整改记录 {rect_id} 不存在")
    return rect
