"""The roles staff accounts hold, and their groups. A leaf: domain code compares with ``Role`` without importing
the permission machinery (what each role may do is ``CAPABILITIES`` in hotline/auth/permissions.py)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    MONITOR = "monitor"
    SUPERVISOR = "supervisor"
    DEPARTMENT_HANDLER = "department_handler"
    DEPARTMENT_ADMIN = "department_admin"
    ADMIN = "admin"
    AUDITOR = "auditor"  # 审计员: reads the audit log, nothing else (issue 17)
    INTEGRATION = "integration"  # 数据对接: API tokens of the data-sharing platform read the feed (issue 21)


CENTRE = frozenset(
    {Role.AGENT, Role.DISPATCHER, Role.MONITOR, Role.SUPERVISOR, Role.ADMIN}
)  # the hotline centre's staff
DEPARTMENT = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_ADMIN})  # the units' users (承办单位)
STAFF = CENTRE | DEPARTMENT

ROLE_LABELS = {
    Role.AGENT: "话务员",
    Role.DISPATCHER: "派单员",
    Role.MONITOR: "班长",
    Role.SUPERVISOR: "督办员",
    Role.DEPARTMENT_HANDLER: "承办人员",
    Role.DEPARTMENT_ADMIN: "单位管理员",
    Role.ADMIN: "系统管理员",
    Role.AUDITOR: "审计员",
    Role.INTEGRATION: "数据对接",
}
