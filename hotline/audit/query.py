"""Reading the audit trail: administration events (``audit_events``) and logins (``login_events``) as one list,
newest first, with filters, for the page, the API and the CSV export. Read-only: nothing here changes a row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import AuditEvent, LoginEvent

LOGIN_LABELS = {
    "success": "登录成功",
    "failure": "登录失败",
    "locked": "登录被锁定",
    "logout": "退出登录",
    "password": "修改密码",
}
ACTION_LABELS = {
    "org.unit.create": "新增单位",
    "org.unit.update": "修改单位",
    "org.import": "导入单位",
    "places.import": "导入地名",
    "places.update": "修改地名",
    "routing.rule.create": "新增派单规则",
    "routing.rule.update": "修改派单规则",
    "routing.rule.delete": "删除派单规则",
    "category_map.update": "修改归口单位",
    "category_map.publish": "发布归口表版本",
    "sla.policy.publish": "发布时限策略",
    "sla.holiday.set": "设置节假日",
    "sla.holiday.delete": "删除节假日",
    "sla.holiday.import": "导入节假日",
    "citizen.unmask": "查看完整号码",
    "pipl.export": "导出个人信息",
    "pipl.erase": "删除个人信息",
    "pipl.retention": "到期个人信息处理",
    "token.create": "创建 API 令牌",
    "token.revoke": "吊销 API 令牌",
    "user.role_change": "变更角色",
    "subcentre.set": "设置分中心",
}
KINDS = {"admin": "管理操作", "login": "登录与退出"}
MAX_ROWS = 100_000  # one CSV export at most


@dataclass
class Filters:
    kind: str = ""  # "", "admin" or "login"
    actor: str = ""  # username (exact, case-insensitive)
    action: str = ""  # prefix of the action ("org." or "login.failure")
    target: str = ""  # target id (exact)
    start: date | None = None  # local days, inclusive
    end: date | None = None
    ip: str = ""


def _bounds(filters: Filters, tz: str) -> tuple[datetime | None, datetime | None]:
    zone = ZoneInfo(tz)
    start = end = None
    if filters.start:
        start = datetime.combine(filters.start, datetime.min.time(), zone).astimezone(UTC)
    if filters.end:
        end = datetime.combine(filters.end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    return start, end


def _admin_query(filters: Filters, start, end):
    e = AuditEvent.__table__.c
    q = sa.select(
        sa.literal("admin").label("kind"),
        e.id,
        e.at,
        e.actor_name.label("actor"),
        e.actor_role.label("role"),
        e.action,
        e.target_type,
        e.target_id,
        e.detail,
        e.ip,
        e.user_agent,
    )
    if filters.actor:
        q = q.where(sa.func.lower(e.actor_name) == filters.actor.lower())
    if filters.action:
        q = q.where(e.action.startswith(filters.action, autoescape=True))
    if filters.target:
        q = q.where(e.target_id == filters.target)
    if filters.ip:
        q = q.where(e.ip == filters.ip)
    if start:
        q = q.where(e.at >= start.replace(tzinfo=None))
    if end:
        q = q.where(e.at < end.replace(tzinfo=None))
    return q


def _login_query(filters: Filters, start, end):
    e = LoginEvent.__table__.c
    action = sa.literal("login.") + e.result
    q = sa.select(
        sa.literal("login").label("kind"),
        e.id,
        e.at,
        e.username.label("actor"),
        sa.literal("").label("role"),
        action.label("action"),
        sa.literal("user").label("target_type"),
        e.username.label("target_id"),
        e.reason.label("detail"),
        e.ip,
        e.user_agent,
    )
    if filters.actor:
        q = q.where(sa.func.lower(e.username) == filters.actor.lower())
    if filters.action:
        if not "login.".startswith(filters.action) and not filters.action.startswith("login."):
            q = q.where(sa.false())
        elif filters.action.startswith("login.") and len(filters.action) > len("login."):
            q = q.where(e.result.startswith(filters.action[len("login.") :], autoescape=True))
    if filters.target:
        q = q.where(e.username == filters.target)
    if filters.ip:
        q = q.where(e.ip == filters.ip)
    if start:
        q = q.where(e.at >= start.replace(tzinfo=None))
    if end:
        q = q.where(e.at < end.replace(tzinfo=None))
    return q


def _union(filters: Filters, tz: str):
    start, end = _bounds(filters, tz)
    parts = []
    if filters.kind in ("", "admin"):
        parts.append(_admin_query(filters, start, end))
    if filters.kind in ("", "login"):
        parts.append(_login_query(filters, start, end))
    return sa.union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _label(action: str) -> str:
    if action.startswith("login."):
        return LOGIN_LABELS.get(action[len("login.") :], action)
    return ACTION_LABELS.get(action, action)


def _as_dict(row, tz: str) -> dict:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return {
        "kind": row.kind,
        "id": row.id,
        "at": at.isoformat(),
        "at_local": at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S"),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "action_label": _label(row.action),
        "target_type": row.target_type,
        "target_id": row.target_id,
        "detail": row.detail,
        "ip": row.ip,
        "user_agent": row.user_agent,
    }


def search(filters: Filters, tz: str, *, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the trail, newest first, and the number of matching rows."""
    sub = _union(filters, tz)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(sub)) or 0
    rows = db.session.execute(
        sa.select(sub).order_by(sub.c.at.desc(), sub.c.id.desc()).limit(limit).offset(offset)
    ).all()
    return [_as_dict(r, tz) for r in rows], total


def changes(kind: str, event_id: int) -> dict | None:
    """before/after of one administration event (login rows have none)."""
    if kind != "admin":
        return None
    row = db.session.get(AuditEvent, event_id)
    return None if row is None else {"before": row.before, "after": row.after}


CSV_HEADER = [
    "时间",
    "类别",
    "操作人",
    "角色",
    "操作",
    "操作代码",
    "对象类型",
    "对象",
    "说明",
    "IP",
    "浏览器",
    "变更前",
    "变更后",
]


def _json(value) -> str:
    import json

    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _cell(value: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(filters: Filters, tz: str) -> str:
    """The matching rows (at most MAX_ROWS) as CSV text with a BOM (Excel opens UTF-8 correctly)."""
    sub = _union(filters, tz)
    rows = db.session.execute(sa.select(sub).order_by(sub.c.at.desc(), sub.c.id.desc()).limit(MAX_ROWS)).all()
    admin_ids = [r.id for r in rows if r.kind == "admin"]
    changes_by_id = {}
    for start in range(0, len(admin_ids), 1000):
        chunk = admin_ids[start : start + 1000]
        for i, before, after in db.session.execute(
            sa.select(AuditEvent.id, AuditEvent.before, AuditEvent.after).where(AuditEvent.id.in_(chunk))
        ):
            changes_by_id[i] = (before, after)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        d = _as_dict(row, tz)
        before, after = changes_by_id.get(row.id, (None, None)) if row.kind == "admin" else (None, None)
        writer.writerow(
            [
                _cell(str(v))
                for v in (
                    d["at_local"],
                    KINDS[d["kind"]],
                    d["actor"],
                    d["role"],
                    d["action_label"],
                    d["action"],
                    d["target_type"],
                    d["target_id"],
                    d["detail"],
                    d["ip"],
                    d["user_agent"],
                    _json(before),
                    _json(after),
                )
            ]
        )
    return out.getvalue()
