"""`flask stats rollup --from DATE --to DATE`: (re)compute the daily rollup of the figures for a date range, e.g.
after a correction; idempotent (hotline/stats/rollup.py)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from hotline.extensions import db
from hotline.stats import rollup

stats = AppGroup("stats", help="统计分析：日汇总表")


@stats.command("rollup")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="开始日期（含），默认昨天")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="结束日期（含），默认与开始日期相同")
def rollup_command(first: datetime | None, last: datetime | None) -> None:
    """Roll up each local day in [from, to] (one commit per day)."""
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    start: date = first.date() if first else datetime.now(zone).date() - timedelta(days=1)
    end: date = last.date() if last else start
    if end < start:
        raise click.UsageError("结束日期不能早于开始日期")
    began, cases = time.perf_counter(), 0
    for day in rollup.days_between(start, end):
        cases += rollup.roll_day(day, zone, datetime.now(UTC))
        db.session.commit()
    days = (end - start).days + 1
    click.echo(f"已汇总 {days} 天（{start} 至 {end}），工单 {cases} 件，用时 {time.perf_counter() - began:.1f} 秒")
