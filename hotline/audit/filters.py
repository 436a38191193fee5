"""The audit trail's filters from a query string (page and API), with zh-CN problems instead of errors."""

from __future__ import annotations

from datetime import date

from hotline.audit.query import KINDS, Filters

MAX_TEXT = 64


def _day(raw: str, label: str, problems: dict) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        problems[label] = "日期格式应为 2026-12-08"
        return None
    return day


def from_args(args) -> tuple[Filters, dict[str, str]]:
    problems: dict[str, str] = {}
    text = {}
    for name in ("actor", "action", "target", "ip"):
        value = (args.get(name) or "").strip()
        if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
            problems[name] = f"{name} 不能超过 {MAX_TEXT} 个字符，且不能含控制字符"
            value = ""
        text[name] = value
    kind = (args.get("kind") or "").strip()
    if kind and kind not in KINDS:
        problems["kind"] = "类别可选：admin（管理操作）、login（登录与退出）"
        kind = ""
    start, end = _day(args.get("from", ""), "from", problems), _day(args.get("to", ""), "to", problems)
    if start and end and start > end:
        problems["to"] = "结束日期不能早于开始日期"
    return Filters(kind=kind, start=start, end=end, **text), problems
