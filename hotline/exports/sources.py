"""What each kind of export writes: a sheet title, the headers, the row count and the rows.

Rows are read in pages of ``PAGE`` by descending id (keyset: ``id < last``) below the highest id seen when the
export started, so the file holds exactly the rows counted, whatever is registered meanwhile, and the job can commit
its progress between pages. Values are plain (str, int, float, naive local datetime) for both writers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.auth.permissions import department_scope, statistics_scope, visible_cases_filter
from hotline.cases.workflow import STATE_LABELS
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import cipher
from hotline.db import refcache
from hotline.exports.filters import instants
from hotline.extensions import db
from hotline.models import AuditEvent, Case, Category, Citizen, CitizenPhone, Department, Rating, User
from hotline.models.cases import CHANNELS, KINDS, URGENCIES
from hotline.open311.redaction import redact
from hotline.stats import figures, queries, summaries
from hotline.stats.periods import Period

PAGE = 5000
STATUS_TEXT = {s.value: label for s, label in STATE_LABELS.items()}


@dataclass
class Source:
    title: str
    headers: list[str]
    total: int
    rows: Iterator[tuple]


def _local(moment: datetime | None, zone: ZoneInfo):
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0) if moment else None


def _national(phone: str) -> str:
    """+8613812345678 -> 13812345678 (as people write it; a leading + would read as a formula)."""
    return phone[3:] if phone.startswith("+86") else phone


def _pct(value: float | None):
    return "—" if value is None else round(value * 100, 2)


def _pages(query, id_col, top: int | None) -> Iterator[sa.Row]:
    """Rows of ``query`` in pages by descending ``id_col``, from ``top`` down (None: nothing)."""
    if top is None:
        return
    last = top + 1
    while True:
        batch = db.session.execute(query.where(id_col < last).order_by(id_col.desc()).limit(PAGE)).all()
        if not batch:
            return
        yield from batch
        last = batch[-1][0]
        db.session.expire_all()


def case_conditions(user: User, filters: dict, tz: str) -> list:
    conditions = [visible_cases_filter(user)]
    if "from" in filters:
        start, end = instants(date.fromisoformat(filters["from"]), date.fromisoformat(filters["to"]), tz)
        conditions += [Case.created_at >= start, Case.created_at < end]
    for key, column in (("status", Case.status), ("channel", Case.channel), ("kind", Case.kind)):
        if key in filters:
            conditions.append(column.in_(filters[key]))
    if code := filters.get("department"):
        path = refcache.active_unit(code).path
        units = sa.select(Department.id).where(Department.path.startswith(path))
        conditions.append(Case.lead_department_id.in_(units))
    if code := filters.get("district"):
        path = refcache.active_unit(code).path
        conditions.append(Case.district_id.in_(sa.select(Department.id).where(Department.path.startswith(path))))
    if value := filters.get("category"):
        cat = refcache.category(value)
        below = sa.select(Category.id).where(
            sa.or_(Category.path == cat.path, Category.path.startswith(cat.path + "/"))
        )
        conditions.append(Case.category_id.in_(below))
    if due := filters.get("due_before"):
        conditions += [Case.deadline_reply.is_not(None), Case.deadline_reply < datetime.fromisoformat(due)]
    return conditions


CASE_HEADERS = [
    "工单编号",
    "受理时间",
    "渠道",
    "诉求类型",
    "紧急程度",
    "状态",
    "标题",
    "分类",
    "区域",
    "承办单位",
    "市民姓名",
    "联系电话",
    "地址",
    "答复期限",
    "办结时间",
    "保密",
]


def cases(user: User, filters: dict, tz: str, unmask: bool) -> Source:
    zone = ZoneInfo(tz)
    conditions = case_conditions(user, filters, tz)
    total = db.session.scalar(sa.select(sa.func.count(Case.id)).where(*conditions)) or 0
    top = db.session.scalar(sa.select(sa.func.max(Case.id)).where(*conditions))
    lead, area = so.aliased(Department), so.aliased(Department)
    query = (
        sa.select(
            Case.id,
            Case.number,
            Case.created_at,
            Case.channel,
            Case.kind,
            Case.urgency,
            Case.status,
            Case.title,
            Category.path,
            area.name,
            lead.name,
            Citizen.name_enc,
            CitizenPhone.masked,
            CitizenPhone.phone_enc,
            Case.address,
            Case.deadline_reply,
            Case.closed_at,
            Case.confidential,
        )
        .join(Citizen, Citizen.id == Case.citizen_id)
        .join(CitizenPhone, CitizenPhone.id == Case.phone_id)
        .outerjoin(Category, Category.id == Case.category_id)
        .outerjoin(area, area.id == Case.district_id)
        .outerjoin(lead, lead.id == Case.lead_department_id)
        .where(*conditions)
    )
    hide_reporter = department_scope(user) is not None or user.is_department_user
    crypt = cipher()

    def rows():
        for r in _pages(query, Case.id, top):
            name = crypt.decrypt(r.name_enc) if r.name_enc else ""
            if r.confidential and hide_reporter:
                name, phone = "", ""
            elif unmask:
                phone = _national(crypt.decrypt(r.phone_enc) or "")
            else:
                name, phone = mask_name(name) if name else "", r.masked
            yield (
                r.number,
                _local(r.created_at, zone),
                CHANNELS.get(r.channel, r.channel),
                KINDS.get(r.kind, r.kind),
                URGENCIES.get(r.urgency, r.urgency),
                STATUS_TEXT.get(r.status, r.status),
                r.title,
                r.path or "",
                r[9] or "",
                r[10] or "",
                name,
                phone,
                r.address if unmask else redact(r.address) or "",
                _local(r.deadline_reply, zone),
                _local(r.closed_at, zone),
                "是" if r.confidential else "否",
            )

    return Source("工单", CASE_HEADERS, total, rows())


RANKING_HEADERS = [
    "名次",
    "单位代码",
    "单位名称",
    "派单量",
    "响应率%",
    "解决率%",
    "满意率%",
    "按时办结率%",
    "退单率%",
    "综合得分%",
    "评价数",
    "黄牌",
    "红牌",
]


def _clock(tz: str) -> figures.Clock:
    return figures.Clock(ZoneInfo(tz), datetime.now(UTC))


def _period(filters: dict) -> Period:
    return Period(date.fromisoformat(filters["from"]), date.fromisoformat(filters["to"]))


def ranking(user: User, filters: dict, tz: str, settings) -> Source:
    """The same rows as GET /api/v1/stats/departments (hotline/stats/summaries.py), in its order."""
    out = summaries.ranking(_period(filters), _clock(tz), statistics_scope(user), settings)["departments"]
    rows = (
        (
            r["rank"] or "—",
            r["department_code"],
            r["department_name"],
            r["counts"]["dispatched"],
            _pct(r["response_rate"]),
            _pct(r["resolution_rate"]),
            _pct(r["satisfaction_rate"]),
            _pct(r["on_time_rate"]),
            _pct(r["return_rate"]),
            _pct(r["composite"]),
            r["counts"]["ratings"],
            r["counts"]["yellow_cards"],
            r["counts"]["red_cards"],
        )
        for r in out
    )
    return Source("单位排名", RANKING_HEADERS, len(out), rows)


def hot(user: User, filters: dict, tz: str) -> Source:
    """The same items as GET /api/v1/stats/hot (all of them, not the top 10)."""
    scope = statistics_scope(user)
    units = None if scope is None else list(queries.units_in_scope(scope))
    answer = summaries.hot(_period(filters), _clock(tz), units, filters["by"], filters["level"], 100_000)
    label = "分类" if filters["by"] == "category" else "区域"
    headers = ["名次", label, "本期件数", "上期件数", "变化", "变化率%"]
    rows = [
        (i, r["label"], r["count"], r["previous"], r["change"], _pct(r["change_rate"]))
        for i, r in enumerate(answer["items"], 1)
    ]
    return Source("热点诉求", headers, len(rows), iter(rows))


RATING_HEADERS = ["评价时间", "工单编号", "被评单位", "评分", "是否解决", "评价内容", "渠道", "计入考核"]


def ratings(user: User, filters: dict, tz: str, unmask: bool) -> Source:
    zone = ZoneInfo(tz)
    start, end = instants(date.fromisoformat(filters["from"]), date.fromisoformat(filters["to"]), tz)
    conditions = [Rating.created_at >= start, Rating.created_at < end]
    if (scope := department_scope(user)) is not None:
        conditions.append(
            Rating.department_id.in_(sa.select(Department.id).where(Department.path.startswith(scope.path)))
        )
    total = db.session.scalar(sa.select(sa.func.count(Rating.id)).where(*conditions)) or 0
    top = db.session.scalar(sa.select(sa.func.max(Rating.id)).where(*conditions))
    query = (
        sa.select(
            Rating.id,
            Rating.created_at,
            Case.number,
            Department.name,
            Rating.score,
            Rating.resolved,
            Rating.comment,
            Rating.channel,
            Rating.excluded,
        )
        .join(Case, Case.id == Rating.case_id)
        .outerjoin(Department, Department.id == Rating.department_id)
        .where(*conditions)
    )
    resolved = {True: "已解决", False: "未解决", None: "—"}

    def rows():
        for r in _pages(query, Rating.id, top):
            comment = r.comment if unmask else redact(r.comment) or ""
            yield (
                _local(r.created_at, zone),
                r.number,
                r.name or "",
                r.score,
                resolved[r.resolved],
                comment,
                r.channel,
                "否" if r.excluded else "是",
            )

    return Source("评价", RATING_HEADERS, total, rows())


AUDIT_HEADERS = ["时间", "操作人", "角色", "操作", "对象类型", "对象", "说明", "IP"]


def audit(filters: dict, tz: str) -> Source:
    zone = ZoneInfo(tz)
    start, end = instants(date.fromisoformat(filters["from"]), date.fromisoformat(filters["to"]), tz)
    conditions = [AuditEvent.at >= start, AuditEvent.at < end]
    total = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(*conditions)) or 0
    top = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)).where(*conditions))
    query = sa.select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor_name,
        AuditEvent.actor_role,
        AuditEvent.action,
        AuditEvent.target_type,
        AuditEvent.target_id,
        AuditEvent.detail,
        AuditEvent.ip,
    ).where(*conditions)

    def rows():
        for r in _pages(query, AuditEvent.id, top):
            yield (_local(r.at, zone), r.actor_name, r.actor_role, r.action, r.target_type, r.target_id, r.detail, r.ip)

    return Source("审计日志", AUDIT_HEADERS, total, rows())


def today_in(tz: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
