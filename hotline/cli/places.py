"""`flask places import FILE.csv [--replace]`, `flask places export FILE.csv`: the city's gazetteer."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from hotline.dispatch import places as ops
from hotline.extensions import db


@click.group("places")
def places():
    """Gazetteer: the places (short names, roads, communities, landmarks) routing locates cases by."""


@places.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Retire every place that is not in the file.")
@with_appcontext
def places_import(path: str, replace: bool):
    """Load a place list (CSV: unit,kind,name,aliases): nothing is loaded if any row is bad."""
    try:
        report = ops.load(ops.read_csv(ops.decode(Path(path).read_bytes())), replace=replace)
    except ops.PlaceListError as err:
        db.session.rollback()
        for line, reason in err.errors:
            click.echo(f"第 {line} 行：{reason}" if line else reason, err=True)
        raise click.ClickException("地名表有错误，未导入任何地名。") from None
    db.session.commit()
    click.echo(
        f"导入完成：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}，停用 {report.retired}。"
    )


@places.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--all", "everything", is_flag=True, help="Retired places too.")
@with_appcontext
def places_export(path: str, everything: bool):
    """Write the place list (the import format)."""
    text = ops.export_csv(include_retired=everything)
    Path(path).write_text(text, encoding="utf-8")
    click.echo(f"已导出 {text.count(chr(10)) - 1} 个地名到 {path}")
