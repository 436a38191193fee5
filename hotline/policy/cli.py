"""``flask --app wsgi holidays import FILE [--partial]`` / ``holidays missing``: the holiday table from the
command line (the page is /admin/policy/holidays)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from hotline.extensions import db
from hotline.org import sheets
from hotline.policy import holidays as hol


@click.group("holidays", help="节假日表：导入一年的放假与调休安排，查看缺失的年份。")
def holidays_cli():
    pass


@holidays_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="Import the valid rows even when some rows are bad.")
@with_appcontext
def holidays_import(path: str, partial: bool):
    """Load holidays (CSV/XLSX: date,kind,name — kind holiday|workday): an upsert by date; nothing is loaded if
    any row is bad (unless --partial)."""
    p = Path(path)
    try:
        rows, errors = hol.parse(p.read_bytes(), p.name)
    except sheets.SheetError as err:
        raise click.ClickException(str(err)) from None
    for line, reason in errors:
        click.echo(f"第 {line} 行：{reason}", err=True)
    report = hol.apply(rows, errors, partial=partial)
    if not report.applied:
        db.session.rollback()
        raise click.ClickException(
            f"共 {report.total} 行，其中 {len(errors)} 行有错误，未导入任何日期。请修正后重新导入，或加 --partial。"
        )
    db.session.commit()
    click.echo("导入完成：" + hol.summary(report))


@holidays_cli.command("missing")
@with_appcontext
def holidays_missing():
    """Print the years whose holidays are missing (exit 1 when any is)."""
    today = datetime.now(ZoneInfo(current_app.config["HOTLINE"].timezone)).date()
    years = hol.missing_years(today)
    if not years:
        click.echo("节假日数据齐全")
        return
    click.echo(hol.banner(today))
    raise SystemExit(1)
