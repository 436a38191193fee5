"""`flask places import FILE [--partial] [--replace]`, `flask places export FILE`,
`flask places suggest-divisions PROVINCE CITY`: the city's gazetteer."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from hotline import audit
from hotline.cli.org import progress_printer
from hotline.dispatch import places as ops
from hotline.extensions import db
from hotline.org import divisions


@click.group("places")
def places():
    """Gazetteer: the places (short names, roads, communities, landmarks) routing locates cases by."""


@places.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="Import the valid rows even when some rows are bad.")
@click.option("--replace", is_flag=True, help="Retire every place that is not in the file.")
@with_appcontext
def places_import(path: str, partial: bool, replace: bool):
    """Load a place list (CSV/XLSX: name,kind,unit_code[,aliases]; the older unit,kind,name,aliases too): an
    upsert by unit and name; nothing is loaded if any row is bad (unless --partial)."""
    try:
        rows, errors = ops.read_file(Path(path).read_bytes(), Path(path).name)
        if errors and not partial:
            raise ops.PlaceListError(errors)
        click.echo(f"读取 {len(rows) + len(errors)} 行，正在导入……", err=True)
        report = ops.load(rows, replace=replace, partial=partial, progress=progress_printer("写入地名"))
    except ops.PlaceListError as err:
        db.session.rollback()
        for line, reason in err.errors:
            click.echo(f"第 {line} 行：{reason}" if line else reason, err=True)
        raise click.ClickException(
            "地名表有错误，未导入任何地名。请修正后重新导入，或加 --partial 只导入正确的行。"
        ) from None
    audit.record(
        None,
        "places.import",
        "file",
        Path(path).name[:128],
        detail=f"命令行导入地名：新增 {report.added}，更新 {report.updated}",
    )
    db.session.commit()
    skipped = sorted(errors + report.errors)
    for line, reason in skipped:
        click.echo(f"第 {line} 行：{reason}（已跳过）", err=True)
    note = f"，跳过有错误的 {len(skipped)} 行（--partial）" if skipped else ""
    click.echo(
        f"导入完成：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}，停用 {report.retired}{note}。"
    )


@places.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--all", "everything", is_flag=True, help="Retired places too.")
@with_appcontext
def places_export(path: str, everything: bool):
    """Write the place list (.csv/.xlsx, the import format: name,kind,unit_code,aliases)."""
    from hotline.org import sheets

    rows = ops.export_rows(include_retired=everything)
    sheets.write_rows(path, ops.FILE_COLUMNS, rows)
    click.echo(f"已导出 {len(rows)} 个地名到 {path}")


@places.command("suggest-divisions")
@click.argument("province")
@click.argument("city")
@click.option("--city-code", default="", help="The code of the city unit (default: its 6-digit division code).")
def places_suggest_divisions(province: str, city: str, city_code: str):
    """Print an org-import CSV of the city and its districts/counties from the standard administrative divisions
    (the cpca package's table), to start a city's unit file from."""
    try:
        click.echo(divisions.suggest_csv(province, city, city_code or None), nl=False)
    except divisions.DivisionError as err:
        raise click.ClickException(str(err)) from None
