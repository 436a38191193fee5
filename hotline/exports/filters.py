"""The filters an export accepts, checked when it is requested (400 with a Chinese message, never a failed job).

Cases take the case list's filters (GET /api/v1/cases: ``status``, ``department``, ``due_before``) plus ``from`` /
``to`` (registration day, local time), ``channel``, ``kind``, ``category`` (a path or level-1 name: the category and
everything below it) and ``district`` (a district or street code: it and its sub-areas). The other exports take a
period ``from`` / ``to`` (default: this month so far)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.cases.errors import InvalidInput
from hotline.cases.workflow import STATE_LABELS
from hotline.db import refcache
from hotline.models.cases import CHANNELS, KINDS

MAX_DAYS = 366 * 3
CASE_KEYS = ("status", "department", "due_before", "from", "to", "channel", "kind", "category", "district")
PERIOD_KEYS = ("from", "to", "by", "level")


def _text(filters: dict, key: str, max_len: int = 255) -> str:
    value = filters.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str | int) or len(str(value)) > max_len:
        raise InvalidInput("invalid_input", f"筛选条件 {key} 不正确", {key: "应为不超过 255 字的文字"})
    return str(value).strip()


def _day(filters: dict, key: str, label: str) -> date | None:
    raw = _text(filters, key, 10)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "invalid_input", f"{label}格式不正确，应为 YYYY-MM-DD", {key: "日期格式为 YYYY-MM-DD"}
        ) from None


def _choices(filters: dict, key: str, allowed, label: str) -> list[str]:
    raw = _text(filters, key)
    values = [v.strip() for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InvalidInput(
            "invalid_input", f"未知的{label}：{'、'.join(unknown)[:40]}", {key: "可选：" + "、".join(map(str, allowed))}
        )
    return values


def period(filters: dict, tz: str, today: date) -> tuple[date, date]:
    first = _day(filters, "from", "开始日期") or today.replace(day=1)
    last = _day(filters, "to", "结束日期") or today
    if first > last:
        raise InvalidInput("invalid_input", "开始日期不能晚于结束日期", {"from": "晚于结束日期"})
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("invalid_input", f"导出区间最长 {MAX_DAYS} 天", {"to": f"区间超过 {MAX_DAYS} 天"})
    return first, last


def instants(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """The half-open UTC interval of the local days first..last."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


def check(what: str, filters: dict, tz: str, today: date) -> dict:
    """``filters`` cleaned for ``what`` (unknown keys refused); raises InvalidInput."""
    if not isinstance(filters, dict):
        raise InvalidInput("invalid_input", "filters 必须是对象", {"filters": "应为 JSON 对象"})
    allowed = CASE_KEYS if what == "cases" else PERIOD_KEYS
    unknown = [k for k in filters if k not in allowed]
    if unknown:
        raise InvalidInput(
            "invalid_input",
            f"不支持的筛选条件：{'、'.join(map(str, unknown))[:60]}",
            {"filters": "可用：" + "、".join(allowed)},
        )
    out: dict = {}
    if what != "cases":
        first, last = period(filters, tz, today)
        out = {"from": first.isoformat(), "to": last.isoformat()}
        if what == "hot":
            out["by"] = (_choices(filters, "by", ("category", "area"), "维度") or ["category"])[0]
            out["level"] = int((_choices(filters, "level", ("1", "2", "3"), "层级") or ["1"])[0])
        return out
    if _text(filters, "from") or _text(filters, "to"):
        first, last = period(filters, tz, today)
        out.update({"from": first.isoformat(), "to": last.isoformat()})
    if statuses := _choices(filters, "status", [s.value for s in STATE_LABELS], "状态"):
        out["status"] = statuses
    if channels := _choices(filters, "channel", list(CHANNELS), "渠道"):
        out["channel"] = channels
    if kinds := _choices(filters, "kind", list(KINDS), "诉求类型"):
        out["kind"] = kinds
    for key, label in (("department", "单位代码"), ("district", "区域代码")):
        if code := _text(filters, key, 32):
            unit = refcache.active_unit(code)
            if unit is None:
                raise InvalidInput("unknown_department", f"未知的{label}：{code[:40]}", {key: "代码不存在"})
            out[key] = code
    if value := _text(filters, "category"):
        if refcache.category(value) is None:
            raise InvalidInput("unknown_category", f"未知的分类：{value[:40]}", {"category": "分类不存在"})
        out["category"] = value
    if due := _text(filters, "due_before", 40):
        try:
            moment = datetime.fromisoformat(due)
            moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        except (ValueError, OverflowError):
            raise InvalidInput(
                "invalid_input", "due_before 必须是日期或时间，如 2026-11-30", {"due_before": "日期格式不正确"}
            ) from None
        out["due_before"] = moment.isoformat()
    return out
