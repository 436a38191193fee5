"""``flask --app wsgi privacy retention [--apply] [--years N]``: the retention limit's dry-run report, or the
erasure (hotline/privacy/retention.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from hotline.extensions import db
from hotline.privacy import retention


@click.group("privacy", help="个人信息保护：按保存期限删除（先试运行）。")
def privacy_cli():
    pass


@privacy_cli.command("retention")
@click.option("--apply", "do_apply", is_flag=True, help="Erase (default: a dry-run report only).")
@click.option("--years", type=float, default=None, help="The limit (default HOTLINE_RETENTION_YEARS).")
@with_appcontext
def retention_command(do_apply: bool, years: float | None):
    years = current_app.config["HOTLINE"].retention_years if years is None else years
    if years <= 0:
        raise click.ClickException("未设置保存期限：请设置 HOTLINE_RETENTION_YEARS 或使用 --years")
    now = datetime.now(UTC)
    if do_apply:
        result = retention.apply(now, years)
        db.session.commit()
        click.echo(f"已删除 {result.people} 人的个人信息，{result.cases} 件工单已匿名（保存期限 {years:g} 年）")
        return
    result = retention.report(now, years)
    retention.record_dry_run(result)
    db.session.commit()
    click.echo(f"试运行：保存期限 {years:g} 年，截至 {result.cutoff:%Y-%m-%d} 前结案")
    click.echo(f"将删除 {result.people} 人的个人信息，涉及 {result.cases} 件工单；确认后加 --apply 执行")
    for row in result.sample:
        click.echo(
            f"  档案 {row['citizen_id']}：{'、'.join(row['phones'])}，{row['cases']} 件，"
            f"最后结案 {row['last_closed_at'][:10]}"
        )
