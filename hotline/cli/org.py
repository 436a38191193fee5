"""`flask org import FILE [--partial]`, `flask org export FILE`: the city's unit tree (承办单位), CSV/XLSX."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from hotline import audit
from hotline.extensions import db
from hotline.org import sheets, units


def progress_printer(label: str, every: int = 1000):
    """A progress callback printing one line every ``every`` rows (and at the end) with the elapsed time."""
    start, last = time.monotonic(), [0]

    def show(done: int, total: int) -> None:
        if done - last[0] >= every or (done == total and last[0] != total):
            last[0] = done
            click.echo(f"{label}：{done}/{total}（{time.monotonic() - start:.1f} 秒）", err=True)

    return show


@click.group("org")
def org():
    """Organisation: the unit tree (city, districts, streets, communities, departments, utilities)."""


@org.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="Import the valid rows even when some rows are bad.")
@with_appcontext
def org_import(path: str, partial: bool):
    """Load units (CSV/XLSX: code,name,kind,parent_code,aliases[,active]): an upsert by code; nothing is loaded if
    any row is bad (unless --partial)."""
    try:
        rows = sheets.read_file(path, units.COLUMNS, units.REQUIRED)
    except sheets.SheetError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"读取 {len(rows)} 行，正在检查……", err=True)
    report = units.apply(rows, partial=partial, progress=progress_printer("写入单位"))
    for error in report.errors:
        click.echo(str(error), err=True)
    if not report.applied:
        db.session.rollback()
        raise click.ClickException(
            f"共 {report.total} 行，其中 {len(report.errors)} 行有错误，未导入任何单位。"
            "请修正后重新导入，或加 --partial 只导入正确的行。"
        )
    audit.record(
        None,
        "org.import",
        "file",
        Path(path).name[:128],
        detail=f"命令行导入单位：共 {report.total} 行，新增 {report.added}，更新 {report.updated}",
    )
    db.session.commit()
    skipped = f"，跳过有错误的 {len(report.errors)} 行（--partial）" if report.errors else ""
    click.echo(
        f"导入完成：共 {report.total} 行，新增 {report.added}，更新 {report.updated}（其中停用 {report.retired}），"
        f"未变 {report.unchanged}，重算路径 {report.repathed}{skipped}。"
    )


@org.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--active-only", is_flag=True, help="Leave out retired units.")
@with_appcontext
def org_export(path: str, active_only: bool):
    """Write every unit to .csv/.xlsx in the import format (plus the active column)."""
    rows = units.export_rows(include_retired=not active_only)
    sheets.write_rows(path, units.COLUMNS, rows)
    click.echo(f"已导出 {len(rows)} 个单位到 {path}")
