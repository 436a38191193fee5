"""What the url_map cannot say about an operation, kept in one place: summary, tag, request body, query
parameters, the answer's schema and status, and the links of the case workflow (create → get → dispatch → sign →
contact/reply → close …) that schemathesis follows in its stateful tests.

Keys are (METHOD, path under /api/v1 in OpenAPI form). Request bodies reuse the views' own validation specs where
a module exposes them (``create_spec``, ``routing_admin.SPEC``, ``ratings.RATING_SPEC``) and repeat the inline ones
in the same ``Str``/``Bool``/``Int`` terms; ``tests/contract/test_openapi.py`` checks every API rule has an entry.
Operations of cases, dispatch, supervision, routing, console and SLA are here; the rest in ``registry_more.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.apidoc.fields import ANY_OBJECT, INTEGER, STRING, array, obj, query, ref
from hotline.cases.workflow import STATE_LABELS
from hotline.dispatch.operations import EMERGENCY_LINES
from hotline.models.cases import RESULTS
from hotline.sla.supervision import SUPERVISION_LEVELS
from hotline.web.validation import Bool, Int, Str


@dataclass
class Op:
    summary: str
    tag: str
    body: dict | None = None  # a parse spec {name: Str|Bool|Int} or a JSON schema ({"type": ...})
    params: list = field(default_factory=list)
    response: dict = field(default_factory=lambda: dict(ANY_OBJECT))
    status: str = "200"
    links: tuple[str, ...] = ()  # operationIds reached with this answer's case number
    versioned: bool = False  # accepts "version" / If-Match (optimistic locking)
    headers: list = field(default_factory=list)


CASE = ref("Case")
# Link name → operationId: each takes the case number from the answer's body.
CASE_LINKS = {
    "get_case": "GetCase",
    "case_routing": "GetRouting",
    "dispatch": "Dispatch",
    "answer": "Answer",
    "close": "Close",
    "transfer": "Transfer",
    "reclassify": "Reclassify",
    "merge": "Merge",
    "sign": "Sign",
    "contact": "Contact",
    "reply": "Reply",
    "return_case": "Return",
    "return_decision": "ReturnDecision",
    "subdispatch": "Subdispatch",
    "pause": "Pause",
    "resume": "Resume",
    "request_extension": "Extension",
    "decide_extension": "ExtensionDecision",
    "supervise": "Supervise",
    "acknowledge": "SuperviseAck",
}
# Constant bodies a link supplies (merged into the generated one): the workflow's dispatch goes to 住建局 (ZJJ), whose
# users then sign, contact and reply to it.
LINK_BODIES = {"dispatch": {"department_code": "ZJJ", "role": "lead"}}
AFTER_CREATE = ("get_case", "case_routing", "dispatch", "answer", "close", "transfer", "reclassify", "merge")
AFTER_DISPATCH = ("get_case", "sign", "return_case", "supervise", "subdispatch", "dispatch")
AFTER_SIGN = ("get_case", "contact", "reply", "pause", "request_extension", "return_case")


def _case_action(summary: str, body: dict | None, links: tuple[str, ...] = ("get_case",)) -> Op:
    return Op(summary, "cases", body=body or {}, response=CASE, links=links, versioned=True)


def _case_create_body() -> dict:
    from hotline.api.cases import create_spec  # the view's own spec (needs the app's settings)

    return create_spec()


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
    "description": "重试安全：同一键 24 小时内重复提交返回第一次的结果（docs/api.md）",
}
CASE_STATUS = {"type": "string", "description": "状态，可逗号分隔：" + "、".join(s.value for s in STATE_LABELS)}

REGISTRY: dict[tuple[str, str], Op] = {
    ("POST", "/cases"): Op(
        "登记工单",
        "cases",
        body=None,  # create_spec(), filled in by document.py inside the app
        response=CASE,
        status="201",
        links=AFTER_CREATE,
        headers=[IDEMPOTENCY_KEY],
    ),
    ("GET", "/cases"): Op(
        "工单列表（分页）",
        "cases",
        params=[
            query("status", CASE_STATUS),
            query("department", STRING, "承办单位代码（含下级单位）"),
            query("due_before", STRING, "答复期限早于该日期/时间，如 2026-11-30"),
            query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "页码，从 1 开始"),
            # issue 20 (desks): search and more filters, see hotline/search/query.py
            query("q", STRING, "工单编号或前缀、来电号码（一号一档的全部工单）、标题/内容/地址中的词"),
            query("kind", STRING, "诉求类型，逗号分隔"),
            query("channel", STRING, "渠道，逗号分隔"),
            query("urgency", STRING, "紧急程度，逗号分隔"),
            query("category", STRING, "分类路径或一级分类名（含下级分类）"),
            query("created_from", {"type": "string", "format": "date"}, "登记日期不早于（本地日期）"),
            query("created_to", {"type": "string", "format": "date"}, "登记日期不晚于（本地日期，含当天）"),
        ],
        response=ref("CasePage"),
    ),
    ("GET", "/cases/{number}"): Op("工单详情", "cases", response=CASE, links=("dispatch", "sign", "close")),
    ("POST", "/cases/{number}/answer"): _case_action(
        "直接办结（知识库答复）",
        {
            "answer": Str("答复内容", required=True, max_len=5000, min_len=2),
            "kb_id": Int("知识条目编号", min_value=1),
            "category": Str("分类（工单尚无分类时必填）", max_len=200),
        },
    ),
    ("POST", "/cases/{number}/dispatch"): _case_action(
        "派单（主办/协办）",
        {
            "department_code": Str("承办单位代码", required=True, max_len=32),
            "role": Str("主办/协办", choices={"lead": "主办", "assist": "协办"}, default="lead"),
            "note": Str("派单意见", max_len=1000),
        },
        AFTER_DISPATCH,
    ),
    ("POST", "/cases/{number}/sign"): _case_action("签收", {}, AFTER_SIGN),
    ("POST", "/cases/{number}/contact"): _case_action(
        "首次联系市民", {"note": Str("联系情况", required=True, max_len=2000)}, ("get_case", "reply")
    ),
    ("POST", "/cases/{number}/reply"): _case_action(
        "答复",
        {
            "content": Str("答复内容", required=True, max_len=5000, min_len=2),
            "result": Str("办理结果", required=True, choices=RESULTS),
        },
        ("get_case", "close"),
    ),
    ("POST", "/cases/{number}/return"): _case_action(
        "退回", {"reason": Str("退回理由", required=True, max_len=2000, min_len=2)}, ("get_case", "return_decision")
    ),
    ("POST", "/cases/{number}/return/decision"): _case_action(
        "退回审核",
        {
            "accept": Bool("是否同意退回", required=True),
            "department_code": Str("改派单位代码", max_len=32),
            "note": Str("审核意见", required=True, max_len=1000),
        },
        ("get_case", "sign"),
    ),
    ("POST", "/cases/{number}/merge"): _case_action("并单", {"into": Str("主工单编号", required=True, max_len=32)}),
    ("POST", "/cases/{number}/close"): _case_action("办结", {"note": Str("办结说明", max_len=2000)}),
    # dispatch and routing (hotline/api/dispatch.py, routing.py, routing_admin.py)
    ("GET", "/cases/{number}/routing"): Op("工单的智能分派结果", "routing"),
    ("GET", "/routing/queue"): Op("派单工作台队列", "routing"),
    ("GET", "/routing/returns"): Op("各单位退回统计", "routing"),
    ("POST", "/cases/{number}/subdispatch"): _case_action(
        "二次派单（区县派至街道）",
        {"department_code": Str("街道/镇代码", required=True, max_len=32), "note": Str("派单意见", max_len=1000)},
        ("get_case", "sign"),
    ),
    ("POST", "/cases/{number}/transfer"): _case_action(
        "紧急转接（110/119/120/122）",
        {"number": Str("转接号码", required=True, choices=EMERGENCY_LINES), "note": Str("转接说明", max_len=1000)},
    ),
    ("POST", "/cases/{number}/category"): _case_action(
        "更正分类", {"category": Str("分类", required=True, max_len=200)}
    ),
    ("POST", "/routing/suggest"): Op(
        "智能分派建议",
        "routing",
        body={"content": Str("诉求内容", required=True, max_len=5000, min_len=2), "address": Str("地址", max_len=300)},
    ),
    ("POST", "/routing/duplicates"): Op(
        "重复件检查",
        "routing",
        body={
            "content": Str("诉求内容", required=True, max_len=5000, min_len=2),
            "address": Str("地址", max_len=300),
            "district_code": Str("区县/街道代码", max_len=32),
        },
    ),
    ("GET", "/routing/rules"): Op("分派规则", "routing", response=obj(items=array(ANY_OBJECT))),
    ("POST", "/routing/rules"): Op("新增分派规则", "routing", body="routing_admin.SPEC", status="201"),
    ("PATCH", "/routing/rules/{rule_id}"): Op("修改分派规则（部分）", "routing", body="routing_admin.SPEC"),
    ("PUT", "/routing/rules/{rule_id}"): Op("修改分派规则", "routing", body="routing_admin.SPEC"),
    ("DELETE", "/routing/rules/{rule_id}"): Op("删除分派规则", "routing"),
    ("GET", "/routing/categories"): Op(
        "分类与承办单位对应",
        "routing",
        params=[query("level", {"type": "string", "enum": ["1", "2", "3"]}, "分类级别")],
        response=obj(items=array(ANY_OBJECT)),
    ),
    ("PUT", "/routing/categories/{category_id}"): Op(
        "修改分类的承办单位",
        "routing",
        body={"department_code": Str("承办单位代码", max_len=32), "local": Bool("属地管理")},
    ),
    # time limits and supervision (hotline/api/supervision.py, sla.py)
    ("POST", "/cases/{number}/pause"): _case_action(
        "暂停计时", {"reason": Str("暂停原因", required=True, max_len=1000, min_len=2)}, ("get_case", "resume")
    ),
    ("POST", "/cases/{number}/resume"): _case_action("恢复计时", {}),
    ("POST", "/cases/{number}/extension"): _case_action(
        "申请延期",
        {
            "days": Int("延期天数", required=True, min_value=1, max_value=30),
            "reason": Str("延期理由", required=True, max_len=1000, min_len=2),
        },
        ("get_case", "decide_extension"),
    ),
    ("POST", "/cases/{number}/extension/decision"): _case_action(
        "审批延期", {"approve": Bool("是否同意延期", required=True), "note": Str("审批意见", max_len=1000)}
    ),
    ("POST", "/cases/{number}/supervise"): _case_action(
        "催办/督办",
        {
            "level": Str("督办级别", required=True, choices=SUPERVISION_LEVELS),
            "note": Str("督办意见", required=True, max_len=1000, min_len=2),
            "department_code": Str("督办单位代码", max_len=32),
        },
        ("get_case", "acknowledge"),
    ),
    ("POST", "/cases/{number}/supervise/ack"): _case_action("确认督办", {"note": Str("确认说明", max_len=1000)}),
    ("GET", "/sla/policy"): Op("时限策略", "sla"),
    ("POST", "/sla/policy"): Op(
        "发布新的时限策略版本",
        "sla",
        body={
            "type": "object",
            "required": ["rules"],
            "properties": {
                "rules": {
                    "type": "object",
                    "description": '环节/选择器 → {"amount": 数量, "unit": 单位}，如 "reply/normal"',
                    "additionalProperties": ANY_OBJECT,
                },
                "note": {"type": ["string", "null"], "maxLength": 200},
            },
        },
    ),
    ("GET", "/sla/holidays"): Op(
        "节假日/调休表",
        "sla",
        params=[query("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, "年份（默认今年起）")],
    ),
    ("POST", "/sla/holidays"): Op(
        "设置节假日/调休",
        "sla",
        body={
            "type": "object",
            "properties": {
                "day": {"type": "string", "format": "date"},
                "is_workday": {"type": "boolean"},
                "note": {"type": ["string", "null"], "maxLength": 100},
                "days": {"type": "array", "maxItems": 400, "items": ANY_OBJECT},
            },
        },
    ),
    ("DELETE", "/sla/holidays/{day}"): Op("删除节假日设置", "sla"),
    ("GET", "/console/changes"): Op(
        "控制台事件补发（按 cursor）",
        "console",
        params=[
            query("since", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, "上次收到的 cursor"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "最多条数"),
        ],
        response=obj(items=array(ANY_OBJECT), next=INTEGER, more={"type": "boolean"}),
    ),
}
