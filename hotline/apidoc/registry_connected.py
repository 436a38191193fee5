"""The registry (see registry.py) for the connected operations under /api/v1: outbound webhooks, the data-sharing
feed, 110 linkage and case exchange (issue 21; docs/api.md, section connected)."""

from __future__ import annotations

from hotline.apidoc.fields import BOOLEAN, INTEGER, NULLABLE_STRING, STRING, array, obj, query
from hotline.apidoc.registry import Op
from hotline.webhooks.payloads import EVENTS

EVENT_LIST = {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(EVENTS)}}
WEBHOOK_BODY = {
    "type": "object",
    "required": ["url", "events", "secret"],
    "properties": {
        "url": {"type": "string", "maxLength": 500, "description": "http(s) 地址；不得指向内网/回环地址"},
        "events": EVENT_LIST,
        "secret": {"type": "string", "minLength": 8, "maxLength": 200, "description": "签名密钥"},
        "name": {"type": "string", "maxLength": 100},
        "active": BOOLEAN,
        "may_unmask": {"type": "boolean", "description": "推送完整的市民姓名和电话（每次推送记入审计日志）"},
        "source": {"type": "string", "maxLength": 64, "description": "只推送与该联动系统关联的工单"},
    },
}
WEBHOOK_EDIT = {
    "type": "object",
    "properties": {**WEBHOOK_BODY["properties"], "flagged": {"type": "boolean", "description": "false：清除失败标记"}},
}
WEBHOOK = obj(
    id=INTEGER,
    name=STRING,
    url=STRING,
    events=EVENT_LIST,
    active=BOOLEAN,
    may_unmask=BOOLEAN,
    source=NULLABLE_STRING,
    flagged_at=NULLABLE_STRING,
    flag_reason=NULLABLE_STRING,
    created_at=STRING,
)
DELIVERY = obj(
    id=INTEGER,
    delivery=STRING,
    event=STRING,
    status={"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
    attempts=INTEGER,
    response_code={"type": ["integer", "null"]},
    last_error=NULLABLE_STRING,
    case_number=NULLABLE_STRING,
    created_at=STRING,
    sent_at=NULLABLE_STRING,
)
FEED_ITEM = {
    "type": "object",
    "properties": {
        "cursor": INTEGER,
        "kind": {"type": "string", "enum": ["case.created", "case.event", "rating.created"]},
        "number": STRING,
        "status": STRING,
        "changed_at": STRING,
        "events": array({"type": "object"}),
    },
}

SIGNED = {
    "name": "X-Hotline-Signature",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
    "description": "sha256=HMAC-SHA256(联动密钥, 请求体) 的十六进制；密钥为该来源的专用密钥或 HOTLINE_LINKAGE_SECRET",
}
INBOUND = {
    "type": "object",
    "required": ["source", "reference", "content"],
    "properties": {
        "source": {"type": "string", "maxLength": 64, "description": "发送系统编号，如 110-sz"},
        "source_type": {"type": "string", "enum": ["110", "119", "120", "122", "hotline"], "default": "110"},
        "reference": {"type": "string", "maxLength": 64, "description": "对方的警情/工单编号（幂等键）"},
        "content": {"type": "string", "maxLength": 5000},
        "caller": {"type": "string", "maxLength": 64},
        "caller_name": {"type": "string", "maxLength": 50},
        "address": {"type": "string", "maxLength": 300},
        "category": {"type": "string", "maxLength": 255, "description": "分类提示（分类路径或一级分类名）"},
        "urgency": {"type": "string", "enum": ["normal", "urgent", "emergency"]},
        "title": {"type": "string", "maxLength": 200},
    },
}

ENTRIES: dict[tuple[str, str], Op] = {
    ("POST", "/linkage/inbound"): Op(
        "110/119/120/122 及兄弟热线推送工单（签名；同一来源编号只建一单）",
        "linkage",
        body=INBOUND,
        response=obj(number=STRING, duplicate=BOOLEAN),
        status="201",
        headers=[SIGNED],
    ),
    ("POST", "/webhooks"): Op("添加推送订阅（Webhook）", "webhooks", body=WEBHOOK_BODY, response=WEBHOOK, status="201"),
    ("GET", "/webhooks"): Op("推送订阅列表", "webhooks", response=obj(webhooks=array(WEBHOOK))),
    ("GET", "/webhooks/{sub_id}"): Op("推送订阅", "webhooks", response=WEBHOOK),
    ("PATCH", "/webhooks/{sub_id}"): Op(
        "修改推送订阅（停用/启用、清除失败标记）", "webhooks", body=WEBHOOK_EDIT, response=WEBHOOK
    ),
    ("DELETE", "/webhooks/{sub_id}"): Op("删除推送订阅（未送达的推送一并取消）", "webhooks", status="204"),
    ("GET", "/webhooks/{sub_id}/deliveries"): Op(
        "推送记录（含对方响应码）",
        "webhooks",
        params=[query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "条数，默认 100")],
        response=obj(deliveries=array(DELIVERY)),
    ),
    ("POST", "/webhooks/{sub_id}/deliveries/{outbox_id}/redeliver"): Op(
        "重新推送（同一推送编号，接收方按编号去重）",
        "webhooks",
        body={},
        response=obj(id=INTEGER, status=STRING),
        status="202",
    ),
    ("GET", "/feed/cases"): Op(
        "数据共享：按提交顺序读取工单变更（游标分页，不重不漏）",
        "feed",
        params=[
            query("since", {"type": "integer", "minimum": 0}, "上一页返回的 next（首次为 0）"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 5000}, "每页条数，默认 500"),
        ],
        response=obj(items=array(FEED_ITEM), next=INTEGER, more=BOOLEAN, head=INTEGER, reset=BOOLEAN),
    ),
}
