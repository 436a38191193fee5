"""The registry (see registry.py) for the insight operations under /api/v1."""

from __future__ import annotations

from hotline.apidoc.fields import INTEGER, STRING, array, obj, query
from hotline.apidoc.registry import Op

ENTRIES: dict[tuple[str, str], Op] = {}


# --- insight: figures (hotline/api/figures.py; past days from the daily rollup, today live) ----------------------
_DAY = {"type": "string", "format": "date"}
_PERIOD = [
    query("from", _DAY, "开始日期（含），默认本月 1 日"),
    query("to", _DAY, "结束日期（含），默认今天；区间最长 366 天"),
]
_COUNTS = array(obj(key=STRING, label=STRING, count=INTEGER))
_TREND = obj(**{"from": _DAY, "to": _DAY, "total": INTEGER, "change": {"type": ["number", "null"]}})
INSIGHT_ENTRIES: dict[tuple[str, str], Op] = {
    ("GET", "/stats/overview"): Op(
        "统计分析：受理量（按渠道、类型、日、时段），与上期及去年同期对比",
        "stats",
        params=_PERIOD,
        response=obj(
            **{"from": _DAY, "to": _DAY},
            total=INTEGER,
            scope={"type": "string", "enum": ["city", "unit"]},
            by_channel=_COUNTS,
            by_kind=_COUNTS,
            by_day=array(obj(day=_DAY, count=INTEGER)),
            by_hour=array(obj(hour=INTEGER, count=INTEGER)),
            trend=obj(previous=_TREND, last_year=_TREND),
        ),
    ),
    ("GET", "/stats/hot"): Op(
        "统计分析：热点（按分类或区域的某一层级），含上期件数",
        "stats",
        params=[
            *_PERIOD,
            query("by", {"type": "string", "enum": ["category", "area"]}, "category 分类 / area 区域"),
            query(
                "level", {"type": "integer", "minimum": 1, "maximum": 3}, "层级：分类 1–3；区域 1 区县 2 街道 3 社区"
            ),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "条数，默认 10"),
        ],
        response=obj(
            by=STRING,
            level=INTEGER,
            total=INTEGER,
            items=array(
                obj(
                    id={"type": ["integer", "null"]},
                    name=STRING,
                    label=STRING,
                    count=INTEGER,
                    previous=INTEGER,
                    change=INTEGER,
                    change_rate={"type": ["number", "null"]},
                )
            ),
        ),
    ),
    ("GET", "/stats/cases"): Op(
        "统计分析：数字背后的工单（钻取）",
        "stats",
        params=[
            *_PERIOD,
            query("channel", STRING, "受理渠道"),
            query("kind", STRING, "诉求类型"),
            query("category", {"type": "integer"}, "分类编号（含下级分类）"),
            query("area", {"type": "integer"}, "区域单位编号（含下级）"),
            query("day", _DAY, "某一天"),
            query("hour", {"type": "integer", "minimum": 0, "maximum": 23}, "时段（本地时间的小时）"),
            query("unit", STRING, "单位代码：该期间派给该单位主办的工单"),
            query("page", {"type": "integer", "minimum": 1}, "页码"),
        ],
    ),
}
ENTRIES.update(INSIGHT_ENTRIES)


# --- reports: exports, alerts, monthly reports (hotline/api/exports.py, alerts.py, reports.py) -------------------
def _q(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_EXPORT_STATUS = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "what": {"type": "string"},
        "format": {"type": "string", "enum": ["xlsx", "csv"]},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "rows": {"type": "integer"},
        "total": {"type": ["integer", "null"]},
        "url": {"type": ["string", "null"], "description": "完成后的下载地址（仅限申请人）"},
        "error": {"type": ["string", "null"]},
    },
}
_ALERT_FILTERS = [
    _q("status", {"type": "string", "enum": ["open", "acknowledged", "closed"]}, "状态"),
    _q("kind", {"type": "string", "enum": ["cluster", "repeat_caller", "on_time"]}, "预警类型"),
    _q("page", {"type": "integer", "minimum": 1}, "页码"),
]
REPORTS_ENTRIES: dict[tuple[str, str], Op] = {
    ("POST", "/exports"): Op(
        "新建导出（后台生成 XLSX/CSV）",
        "exports",
        body={
            "type": "object",
            "required": ["what"],
            "properties": {
                "what": {"type": "string", "enum": ["cases", "ranking", "hot", "ratings", "audit"]},
                "format": {"type": "string", "enum": ["xlsx", "csv"], "default": "xlsx"},
                "filters": {
                    "type": "object",
                    "description": "cases：status、department、district、category、channel、kind、from、to、"
                    "due_before；其他：from、to（hot 另有 by=category|area、level=1|2|3）",
                },
            },
        },
        response={"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}},
        status="202",
    ),
    ("GET", "/exports"): Op("我的导出（最近 20 个）", "exports"),
    ("GET", "/exports/{export_id}"): Op("导出进度", "exports", response=_EXPORT_STATUS),
    ("GET", "/exports/{export_id}/file"): Op(
        "下载导出文件（仅限申请人）", "exports", response={"type": "string", "format": "binary"}
    ),
    ("GET", "/alerts"): Op("预警列表（最新在前）", "alerts", params=_ALERT_FILTERS),
    ("GET", "/alerts/{alert_id}"): Op("预警详情（含关联工单）", "alerts"),
    ("POST", "/alerts/{alert_id}/acknowledge"): Op("确认知悉预警", "alerts"),
}
ENTRIES.update(REPORTS_ENTRIES)
