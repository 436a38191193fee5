"""The registry (see registry.py) for citizens, knowledge base, ratings, rectifications, the signed webhooks (CTI,
SMS), statistics, users, notifications, the outbox and this document itself."""

from __future__ import annotations

from hotline.apidoc.fields import ANY_OBJECT, STRING, array, obj, query
from hotline.apidoc.registry import Op
from hotline.citizens.calls import EVENTS
from hotline.kb.feedback import KINDS as FEEDBACK_KINDS
from hotline.models.knowledge import KB_KINDS, KB_STATUSES
from hotline.ratings.rectification import MAX_RECTIFY_DAYS, MODES, OUTCOMES, STAGES
from hotline.web.validation import Bool, Int, Str

SIGNATURE = {
    "name": "X-Hotline-Signature",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
    "description": "sha256=HMAC-SHA256(共享密钥, 请求体) 的十六进制",
}
DAY = {"type": "string", "format": "date"}
ENTRY_BODY = {
    "type": "object",
    "required": ["kind", "title", "department_code"],
    "properties": {
        "kind": {"type": "string", "enum": list(KB_KINDS)},
        "code": {"type": ["string", "null"], "maxLength": 64},
        "title": {"type": "string", "minLength": 2, "maxLength": 200},
        "body": {"type": ["string", "null"], "maxLength": 20000},
        "department_code": {"type": "string", "maxLength": 32},
        "category": {"type": ["string", "null"], "maxLength": 255},
        "version": {"type": ["integer", "null"]},
    },
}

UNIT_BODY = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "maxLength": 32},
        "name": {"type": "string", "minLength": 2, "maxLength": 100},
        "kind": {"type": "string", "enum": ["city", "district", "street", "community", "department", "utility"]},
        "parent_code": {"type": "string", "maxLength": 32},
        "aliases": {"type": "array", "items": {"type": "string", "minLength": 2, "maxLength": 100}},
        "active": {"type": "boolean"},
    },
}
MORE: dict[tuple[str, str], Op] = {
    ("GET", "/citizens/lookup"): Op(
        "一号一档：按电话查市民档案",
        "citizens",
        params=[query("phone", {"type": "string", "maxLength": 64}, "电话号码", required=True)],
    ),
    ("POST", "/citizens/records"): Op(
        "写入其他系统的办件记录",
        "citizens",
        body={
            "phone": Str("电话号码", required=True, max_len=64),
            "source": Str("来源系统", required=True, max_len=64),
            "ref": Str("来源编号", required=True, max_len=128),
            "title": Str("事项名称", required=True, max_len=300),
            "status": Str("状态", max_len=64, default=""),
            "occurred_at": Str("发生时间", max_len=40),
        },
        status="201",
    ),
    ("POST", "/citizens/{citizen_id}/phones"): Op(
        "为档案添加号码", "citizens", body={"phone": Str("电话号码", required=True, max_len=64)}
    ),
    ("POST", "/citizens/{citizen_id}/tags"): Op(
        "设置档案标签",
        "citizens",
        body={"type": "object", "required": ["tags"], "properties": {"tags": array(STRING)}},
    ),
    ("POST", "/citizens/merge"): Op(
        "合并档案",
        "citizens",
        body={
            "source_phone": Str("被合并号码", required=True, max_len=64),
            "target_phone": Str("保留档案号码", required=True, max_len=64),
            "note": Str("说明", max_len=500, default=""),
        },
    ),
    ("POST", "/citizens/{citizen_id}/unmask"): Op("查看完整号码（留审计记录）", "citizens", body={}),
    ("GET", "/kb/search"): Op(
        "知识库检索",
        "kb",
        params=[
            query("q", {"type": "string", "maxLength": 200}, "搜索内容", required=True),
            query("kind", {"type": "string", "enum": list(KB_KINDS)}),
            query("department", STRING),
            query("district", STRING),
            query("category", STRING),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 50}),
        ],
    ),
    ("GET", "/kb/entries"): Op(
        "知识条目列表",
        "kb",
        params=[
            query("status", {"type": "string", "enum": list(KB_STATUSES)}),
            query("department", STRING),
            query("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
        ],
    ),
    ("GET", "/kb/entries/{entry_id}"): Op("知识条目", "kb"),
    ("POST", "/kb/entries"): Op("新建知识条目", "kb", body=ENTRY_BODY, status="201"),
    ("PUT", "/kb/entries/{entry_id}"): Op("修改知识条目", "kb", body=ENTRY_BODY),
    ("POST", "/kb/entries/{entry_id}/transition"): Op(
        "知识条目审核流转",
        "kb",
        body={
            "type": "object",
            "required": ["action"],
            "properties": {"action": STRING, "note": {"type": ["string", "null"], "maxLength": 500}},
        },
    ),
    ("GET", "/kb/entries/{entry_id}/versions"): Op("知识条目历史版本", "kb"),
    ("POST", "/kb/feedback"): Op(
        "知识库反馈",
        "kb",
        body={
            "kind": Str("反馈类型", required=True, choices=FEEDBACK_KINDS),
            "entry_id": Int("知识条目编号", min_value=1),
            "query": Str("搜索内容", max_len=200),
            "note": Str("说明", max_len=1000),
            "case_number": Str("工单编号", max_len=32),
            "department_code": Str("建议负责单位代码", max_len=32),
        },
        status="201",
    ),
    ("GET", "/kb/feedback"): Op(
        "知识库反馈列表", "kb", params=[query("status", {"type": "string", "enum": ["open", "done"]})]
    ),
    ("POST", "/kb/feedback/{feedback_id}/resolve"): Op("处理反馈", "kb", body={}),
    ("POST", "/ratings"): Op("市民评价（评价链接的凭证）", "ratings", body="ratings.RATING_SPEC", status="201"),
    ("POST", "/sms/inbound"): Op(
        "短信网关回调（市民回复评分）",
        "webhooks",
        body={
            "type": "object",
            "required": ["from", "text"],
            "properties": {
                "from": {"type": "string", "maxLength": 64},
                "id": {"type": ["string", "null"], "maxLength": 64},
                "text": {"type": "string", "maxLength": 1000},
            },
        },
        headers=[SIGNATURE],
    ),
    ("POST", "/cti/events"): Op(
        "呼叫平台事件（来电、接听、挂机、录音、按键评价）",
        "webhooks",
        body={
            "event": Str("事件", required=True, choices=EVENTS),
            "call_id": Str("通话编号", required=True, max_len=64),
            "caller": Str("主叫号码", required=True, max_len=64),
            "callee": Str("被叫号码", max_len=64, default=""),
            "agent": Str("坐席", max_len=64),
            "at": Str("时间", required=True, max_len=40),
            "recording_url": Str("录音地址", max_len=500),
            "digits": Str("按键", max_len=8),
        },
        headers=[SIGNATURE],
    ),
    ("GET", "/outbox"): Op("工单的消息发送记录", "ratings", params=[query("case", STRING, "工单编号", required=True)]),
    ("GET", "/rectifications"): Op(
        "差评整改列表", "ratings", params=[query("stage", {"type": "string", "enum": ["open", *STAGES]})]
    ),
    ("GET", "/rectifications/{rect_id}"): Op("差评整改记录", "ratings"),
    ("POST", "/rectifications/{rect_id}/verify"): Op(
        "核实差评",
        "ratings",
        body={
            "outcome": Str("核实结论", required=True, choices=OUTCOMES),
            "note": Str("核实情况", required=True, min_len=2, max_len=2000),
            "mode": Str("整改方式", choices=MODES),
            "days": Int("整改期限（工作日）", min_value=1, max_value=MAX_RECTIFY_DAYS),
        },
    ),
    ("POST", "/rectifications/{rect_id}/rectify"): Op(
        "提交整改", "ratings", body={"note": Str("整改情况", required=True, min_len=2, max_len=5000)}
    ),
    ("POST", "/rectifications/{rect_id}/revisit"): Op(
        "回访",
        "ratings",
        body={
            "score": Int("回访评分", required=True, min_value=1, max_value=5),
            "resolved": Bool("问题是否解决", required=True),
            "note": Str("回访记录", required=True, min_len=2, max_len=2000),
        },
    ),
    ("POST", "/rectifications/{rect_id}/explain"): Op(
        "解释说明", "ratings", body={"note": Str("解释说明", required=True, min_len=2, max_len=2000)}
    ),
    ("POST", "/rectifications/{rect_id}/appeal"): Op(
        "申诉", "ratings", body={"reason": Str("申诉理由", required=True, min_len=2, max_len=2000)}
    ),
    ("POST", "/rectifications/{rect_id}/appeal/decision"): Op(
        "申诉复核",
        "ratings",
        body={
            "uphold": Bool("申诉是否成立", required=True),
            "note": Str("复核意见", required=True, min_len=2, max_len=2000),
        },
    ),
    ("GET", "/stats/departments"): Op(
        "统一考核：各单位指标",
        "stats",
        params=[query("from", DAY, "开始日期"), query("to", DAY, "结束日期")],
    ),
    ("GET", "/users"): Op("用户列表", "users", params=[query("role", STRING, "角色")]),
    ("GET", "/notifications"): Op(
        "站内通知（最新 50 条）", "notifications", params=[query("unread", {"type": "string", "enum": ["1", "true"]})]
    ),
    ("GET", "/cases/{number}/publication"): Op("工单是否在 Open311 公开", "cases"),
    ("POST", "/cases/{number}/publication"): Op(
        "公开/取消公开（Open311 公开数据）",
        "cases",
        body={"public": Bool("是否公开", required=True), "note": Str("说明", max_len=500)},
    ),
    # units (hotline/org/api.py, issue 17)
    ("GET", "/units"): Op(
        "单位列表（flat：带 parent_code；tree：嵌套 children）",
        "units",
        params=[
            query("format", {"type": "string", "enum": ["flat", "tree"]}, "flat 或 tree"),
            query("q", STRING, "代码、名称或别名"),
            query("kind", STRING, "单位类型"),
            query("active", {"type": "string", "enum": ["1", "0"]}, "1 启用 / 0 停用"),
        ],
    ),
    ("GET", "/units/{code}"): Op("单位详情", "units"),
    ("POST", "/units"): Op(
        "新增单位（管理员）", "units", body=UNIT_BODY | {"required": ["code", "name", "kind"]}, status="201"
    ),
    ("PATCH", "/units/{code}"): Op("修改单位：名称、类型、上级、别名、启用/停用（管理员）", "units", body=UNIT_BODY),
    ("GET", "/openapi.json"): Op("本文档（OpenAPI 3.1）", "meta", response=obj(openapi=STRING, paths=ANY_OBJECT)),
}
