"""`flask kb import FILE [--partial]`, `flask kb export FILE`, `flask kb reindex`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from hotline.extensions import db
from hotline.kb import importer
from hotline.kb.entries import compute_terms
from hotline.kb.importer import export_records
from hotline.kb.index import bump_seq
from hotline.models import KbEntry
from knowledge_base.catalog import CatalogError, write

FIELD_LABELS = {
    "kind": "条目类型",
    "code": "事项编码",
    "title": "标题",
    "body": "正文",
    "department_code": "责任单位代码",
    "category": "分类",
    "tags": "标签",
    "districts": "适用区县",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "columns": "列",
    "row": "整行",
}


@click.group("kb")
def kb():
    """Knowledge base: import/export the catalogue, rebuild search terms."""


@kb.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--partial", is_flag=True, help="Import the valid rows even when some rows are bad.")
@click.option("--draft", is_flag=True, help="Import as drafts (for review) instead of published entries.")
@with_appcontext
def kb_import(path: str, partial: bool, draft: bool):
    """Import a catalogue (.csv/.json/.xlsx): every row is checked first; nothing is imported if any row is bad
    (unless --partial)."""
    try:
        report = importer.run(path, None, datetime.now(UTC), partial=partial, status="draft" if draft else "published")
    except CatalogError as err:
        raise click.ClickException(str(err)) from None
    for row in report.bad:
        reasons = "；".join(f"{FIELD_LABELS.get(k.split('.')[0], k)}（{k}）：{v}" for k, v in row.errors.items())
        click.echo(f"第 {row.line} 行：{reasons}", err=True)
    if report.bad and not partial:
        db.session.rollback()
        raise click.ClickException(
            f"共 {report.total} 行，其中 {len(report.bad)} 行有错误，未导入任何条目。"
            f"请修正后重新导入，或加 --partial 只导入正确的行。"
        )
    db.session.commit()
    skipped = f"，跳过有错误的 {len(report.bad)} 行（--partial）" if report.bad else ""
    same = f"，{report.unchanged} 条内容未变" if report.unchanged else ""
    click.echo(f"导入完成：共 {report.total} 行，新增 {report.created} 条，更新 {report.updated} 条{same}{skipped}。")


@kb.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--all", "everything", is_flag=True, help="All entries, not only published ones.")
@with_appcontext
def kb_export(path: str, everything: bool):
    """Export entries to .csv/.json/.xlsx (the import format)."""
    try:
        count = write(path, export_records(None if everything else "published"))
    except CatalogError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"已导出 {count} 条到 {path}")


@kb.command("reindex")
@with_appcontext
def kb_reindex():
    """Recompute every entry's search terms (after the user dictionary or synonyms changed)."""
    count = 0
    for entry in db.session.scalars(sa.select(KbEntry)):
        entry.terms = compute_terms(entry)
        count += 1
    seq = bump_seq()
    db.session.execute(sa.update(KbEntry).values(index_seq=seq, updated_at=KbEntry.updated_at))
    db.session.commit()
    click.echo(f"已重建 {count} 条的检索词")
