"""Reusable parts of the document: the error format, the case and its pieces, security schemes, error responses."""

from __future__ import annotations

from hotline.apidoc.fields import (
    ANY_OBJECT,
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    array,
    obj,
    ref,
)
from hotline.cases.workflow import STATE_LABELS
from hotline.models.cases import CHANNELS, KINDS, URGENCIES

TIME = {"type": ["string", "null"], "format": "date-time"}
DEADLINES = obj(sign=TIME, contact=TIME, reply=TIME)

ERROR = {
    "type": "object",
    "description": "每个错误的统一格式（docs/api.md）：code 供程序判断，message 为中文说明，fields 为逐字段原因",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": STRING,
                "fields": {"type": "object", "additionalProperties": STRING},
            },
        }
    },
}

CASE_SUMMARY = {
    "type": "object",
    "required": ["number", "status", "version"],
    "properties": {
        "number": STRING,
        "status": {"type": "string", "enum": [s.value for s in STATE_LABELS]},
        "status_label": STRING,
        "kind": {"type": "string", "enum": list(KINDS)},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "urgency": {"type": "string", "enum": list(URGENCIES)},
        "title": STRING,
        "category": NULLABLE_STRING,
        "category_path": NULLABLE_STRING,
        "department_code": NULLABLE_STRING,
        "department_name": NULLABLE_STRING,
        "district_code": NULLABLE_STRING,
        "confidential": BOOLEAN,
        "version": INTEGER,
        "deadlines": DEADLINES,
        "created_at": TIME,
        "closed_at": TIME,
    },
}

EVENT = obj(
    id=INTEGER,
    action=STRING,
    actor=NULLABLE_STRING,
    actor_label=NULLABLE_STRING,
    department_code=NULLABLE_STRING,
    note=NULLABLE_STRING,
    data=ANY_OBJECT,
    at=TIME,
    **{"from": NULLABLE_STRING, "to": NULLABLE_STRING},
)
ASSIGNMENT = obj(
    department_code=STRING,
    department_name=STRING,
    role={"type": "string", "enum": ["lead", "assist"]},
    status=STRING,
    assigned_at=TIME,
    signed_at=TIME,
    contacted_at=TIME,
    replied_at=TIME,
    deadlines=DEADLINES,
    reply=NULLABLE_STRING,
    result=NULLABLE_STRING,
    return_reason=NULLABLE_STRING,
)
CASE = {
    "allOf": [
        ref("CaseSummary"),
        obj(
            content=STRING,
            address=NULLABLE_STRING,
            call_id=NULLABLE_STRING,
            answer=NULLABLE_STRING,
            answer_kb_id={"type": ["integer", "null"]},
            citizen={"type": ["object", "null"], "properties": {"name": NULLABLE_STRING, "phone": NULLABLE_STRING}},
            cards=array(ANY_OBJECT),
            ratings=array(ANY_OBJECT),
            pauses=array(ANY_OBJECT),
            extensions=array(ANY_OBJECT),
            supervisions=array(ANY_OBJECT),
            events=array(ref("CaseEvent")),
            assignments=array(ref("Assignment")),
        ),
    ]
}
PAGE = {
    "type": "object",
    "required": ["items", "page", "total"],
    "properties": {"items": array(ANY_OBJECT), "page": INTEGER, "per_page": INTEGER, "total": INTEGER},
}
CASE_PAGE = {
    "type": "object",
    "required": ["items", "page", "per_page", "total"],
    "properties": {"items": array(ref("CaseSummary")), "page": INTEGER, "per_page": INTEGER, "total": INTEGER},
}

SCHEMAS = {
    "Error": ERROR,
    "CaseSummary": CASE_SUMMARY,
    "CaseEvent": EVENT,
    "Assignment": ASSIGNMENT,
    "Case": CASE,
    "CasePage": CASE_PAGE,
    "Page": PAGE,
}

SECURITY_SCHEMES = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "API 令牌（flask token create USER）：Authorization: Bearer TOKEN",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "登录页 /login 建立的会话（浏览器中的坐席控制台等）；写操作另需 CSRF 令牌",
    },
}
STAFF_SECURITY = [{"bearerToken": []}, {"sessionCookie": []}]

ERROR_STATUSES = {
    "400": "请求有误（无效 JSON、字段不合规，见 fields）",
    "401": "未登录或令牌无效",
    "403": "当前角色或单位无权执行",
    "404": "资源不存在",
    "405": "不支持该请求方法",
    "409": "版本冲突或重复提交",
    "413": "请求体超过 1 MB",
    "422": "业务规则不允许（如状态不允许该操作）",
    "429": "请求过于频繁",
    "503": "依赖服务（数据库、Redis）暂时不可用，带 Retry-After",
}


def error_responses() -> dict:
    return {
        status: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
        for status, text in ERROR_STATUSES.items()
    }
