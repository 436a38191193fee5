"""Text alternatives of the charts (zh-CN): one sentence that says what the chart shows, for screen readers."""

from __future__ import annotations


def pct(value: float | None) -> str:
    """0.8333 -> "83.3%"; None (nothing to measure) -> "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


def _change(rate: float | None) -> str:
    if rate is None:
        return "上期无数据"
    return f"较上期{'增加' if rate >= 0 else '减少'} {abs(rate) * 100:.1f}%"


def _trend(trend: dict) -> str:
    last_year = trend["last_year"]["change"]
    return f"环比{_change(trend['previous']['change'])}；同比" + (
        "去年同期无数据" if last_year is None else _change(last_year)[2:]
    )


def overview_alt(data: dict) -> dict:
    days = data["by_day"]
    peak_day = max(days, key=lambda d: d["count"]) if days else None
    hours = data["by_hour"]
    peak_hour = max(hours, key=lambda h: h["count"])
    channels = sorted((c for c in data["by_channel"] if c["count"]), key=lambda c: -c["count"])
    kinds = sorted((k for k in data["by_kind"] if k["count"]), key=lambda k: -k["count"])
    return {
        "day": f"{data['from']} 至 {data['to']} 每日受理量折线图：共 {data['total']} 件"
        + (f"，最多的一天 {peak_day['day']}，{peak_day['count']} 件" if peak_day and peak_day["count"] else ""),
        "hour": f"各时段受理量柱状图：高峰 {peak_hour['hour']} 时，{peak_hour['count']} 件",
        "channel": "受理渠道饼图：" + ("、".join(f"{c['label']} {c['count']} 件" for c in channels) or "暂无数据"),
        "kind": "诉求类型柱状图：" + ("、".join(f"{k['label']} {k['count']} 件" for k in kinds) or "暂无数据"),
        "trend": _trend(data["trend"]),
    }


def hot_alt(data: dict) -> str:
    if not data["items"]:
        return "热点柱状图：暂无数据"
    top = "、".join(f"{i['label']} {i['count']} 件（{_change(i['change_rate'])}）" for i in data["items"][:5])
    return f"热点柱状图，按件数从多到少：{top}"


def ranking_alt(data: dict) -> str:
    ranked = [r for r in data["departments"] if r["composite"] is not None][:5]
    if not ranked:
        return "单位综合得分柱状图：暂无数据"
    top = "、".join(f"第{r['rank']}名 {r['department_name']} {pct(r['composite'])}" for r in ranked)
    return f"单位综合得分柱状图（前五）：{top}"
