"""The registry (see registry.py) for the admin operations under /api/v1 (issue 17: hotline/audit, hotline/privacy,
hotline/org/subcentres.py; the SLA policy and holidays are in registry.py)."""

from __future__ import annotations

from hotline.apidoc.fields import STRING, query
from hotline.apidoc.registry import Op
from hotline.audit.query import KINDS
from hotline.web.validation import Bool, Str

DAY = {"type": "string", "format": "date"}
PHONE = {"phone": Str("电话号码", required=True, max_len=40)}
AUDIT_EVENT = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "actor": STRING,
        "role": STRING,
        "action": STRING,
        "action_label": STRING,
        "target_type": STRING,
        "target_id": STRING,
        "detail": STRING,
        "ip": STRING,
        "user_agent": STRING,
    },
}

ENTRIES: dict[tuple[str, str], Op] = {
    ("GET", "/audit"): Op(
        "审计日志（审计员、管理员）：登录与退出、管理操作（变更前后）、查看完整号码、导出、令牌与角色变更",
        "audit",
        params=[
            query("kind", {"type": "string", "enum": list(KINDS)}, "admin：管理操作；login：登录与退出"),
            query("actor", STRING, "操作人用户名"),
            query("action", STRING, "操作代码前缀，如 org. 或 login.failure"),
            query("target", STRING, "对象（单位代码、用户名、工单号…）"),
            query("ip", STRING, "客户端 IP"),
            query("from", DAY, "开始日期（含）"),
            query("to", DAY, "结束日期（含）"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "每页条数（100）"),
            query("offset", {"type": "integer", "minimum": 0}, "跳过条数"),
            query("changes", {"type": "string", "enum": ["1"]}, "1：附带变更前后"),
            query("format", {"type": "string", "enum": ["csv"]}, "csv：导出 CSV（本身记入审计）"),
        ],
        response={
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "events": {"type": "array", "items": AUDIT_EVENT},
            },
        },
    ),
    ("POST", "/privacy/export"): Op(
        "导出某人的全部个人信息（ZIP：JSON + 网页；记入审计）",
        "privacy",
        body=PHONE,
        response={"type": "string", "format": "binary"},
    ),
    ("POST", "/privacy/erase"): Op(
        "删除某人的个人信息：工单保留内容并匿名，号码不再查到档案（记入审计）",
        "privacy",
        body={**PHONE, "confirm": Bool("确认删除", required=True)},
    ),
    ("GET", "/privacy/retention"): Op("保存期限试运行报告：将删除的人数与工单数（记入审计）", "privacy"),
    ("GET", "/subcentres"): Op("区县及其是否为分中心", "units"),
    ("PUT", "/subcentres/{code}"): Op(
        "设置/取消分中心（记入审计）", "units", body={"subcentre": Bool("是否分中心", required=True)}
    ),
}
