"""The registry (see registry.py) for the desks operations under /api/v1: notices read, saved filters, notes."""

from __future__ import annotations

from hotline.apidoc.fields import INTEGER, STRING, array, obj
from hotline.apidoc.registry import Op
from hotline.web.validation import Str

SAVED_FILTER = obj(id=INTEGER, name=STRING, query=STRING, created_at=STRING)

ENTRIES: dict[tuple[str, str], Op] = {
    ("POST", "/notifications/read"): Op(
        "把通知标为已读：ids 为本人的通知编号数组，或 all: true 标记全部；返回标记数与剩余未读数",
        "notifications",
        body={
            "type": "object",
            "properties": {
                "ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 500},
                "all": {"type": "boolean"},
            },
        },
        response=obj(marked=INTEGER, unread=INTEGER),
    ),
    ("GET", "/saved-filters"): Op("本人的常用筛选（工单查询条件）", "cases", response=obj(items=array(SAVED_FILTER))),
    ("POST", "/saved-filters"): Op(
        "保存常用筛选（同名则覆盖）；query 为工单查询的查询串，只保留 q、status、kind、channel、urgency、category、"
        "department、created_from、created_to、due_before",
        "cases",
        body={"name": Str("名称", required=True, max_len=40), "query": Str("筛选条件", required=True, max_len=1000)},
        response=SAVED_FILTER,
        status="201",
    ),
    ("DELETE", "/saved-filters/{filter_id}"): Op("删除本人的一个常用筛选", "cases", status="204"),
}

NOTE = obj(
    id=INTEGER,
    text=STRING,
    author=STRING,
    mentions=array(obj(kind={"type": "string", "enum": ["user", "unit"]}, id=INTEGER, label=STRING)),
    created_at=STRING,
)
ENTRIES[("GET", "/cases/{number}/notes")] = Op(
    "工单的内部备注（仅工作人员可见，不向市民展示）", "cases", response=obj(items=array(NOTE))
)
ENTRIES[("POST", "/cases/{number}/notes")] = Op(
    "添加内部备注；文中 @用户名/姓名 或 @单位代码/名称 会通知被提到的人员或单位（站内通知，实时推送）",
    "cases",
    body={"text": Str("备注内容", required=True, max_len=2000)},
    response=NOTE,
    status="201",
)
