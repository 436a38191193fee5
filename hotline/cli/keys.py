"""`flask keys check [--record]`: this host's key fingerprints, where each key came from, and whether they match the
ones the database was written with (``hotline/citizens/keyset.py``), HOTLINE_CRYPTO against the database's
blind-index algorithm, and how many values each algorithm and key wrote. Exit 1 naming every mismatching key."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from hotline.citizens import keyset, sm
from hotline.citizens.privacy import ALGORITHMS
from hotline.citizens.rotation import census
from hotline.extensions import db

SOURCES = {
    "environment": "环境变量 environment",
    "instance file": "实例目录文件 instance file",
    "generated": "本次自动生成 generated",
    "not set": "未设置 not set",
    "setting": "设置 setting",
}


def _line(env: str, fp: str, source: str, verdict: str) -> str:
    return f"  {env:<28} {fp or '—':<14} {source:<28} {verdict}"


@click.command("check")
@click.option(
    "--record",
    is_flag=True,
    help="After a deliberate key change: record this host's fingerprints as the installation's keys.",
)
@with_appcontext
def keys_check(record: bool):
    """Print each key's fingerprint and source; compare with the fingerprints recorded in the database."""
    settings = current_app.config["HOTLINE"]
    if not keyset.table_ready():
        raise click.ClickException("数据库中没有密钥指纹表，请先运行 flask --app wsgi db upgrade")
    if record:
        keyset.record(settings)
        db.session.commit()
        click.echo("已将本机密钥指纹记录为本系统的密钥（其他主机须使用相同的值）。")
    statuses = keyset.verify(settings)
    click.echo("密钥指纹 · Key fingerprints (HMAC-SHA256 of a fixed label under the key, first 12 hex; never the key)")
    click.echo(_line("variable", "fingerprint", "source", "database"))
    for s in statuses:
        if s.recorded is None:
            verdict = "未记录 not recorded" if s.fingerprint else ""
        elif s.ok and s.recorded != s.fingerprint:  # readable here, to be finished by keys rotate (see the note)
            verdict = f"数据库记录 {s.recorded}（记录者 {s.recorded_by}）"
        elif s.ok:
            verdict = f"一致 ok（记录者 {s.recorded_by}）"
        else:
            verdict = f"不一致 MISMATCH：数据库记录 {s.recorded}（记录者 {s.recorded_by}）"
        if s.note:
            verdict = f"{verdict} · {s.note}" if verdict else s.note
        click.echo(_line(s.env, s.fingerprint, SOURCES.get(s.source, s.source), verdict))
    for old in keyset.old_data_keys(settings):
        click.echo(_line("HOTLINE_DATA_KEYS_OLD", keyset.fingerprint("data_key", old), SOURCES["environment"], ""))
    _crypto_lines(settings)
    bad = [s for s in statuses if not s.ok]
    if bad:
        names = ", ".join(s.env for s in bad)
        raise click.ClickException(
            f"本机密钥与数据库记录不一致：{names}。请设置与其他主机（或备份）相同的值。"
            f" / This host's {names} differ from the keys the database was written with."
        )
    click.echo("全部密钥与数据库记录一致。 / All keys match the database.")


def _crypto_lines(settings) -> None:
    library = sm.library() + ("，支持 SM3/SM4" if sm.available() else "，不支持 SM3/SM4")
    click.echo(f"加密算法 · HOTLINE_CRYPTO={settings.crypto}（{ALGORITHMS.get(settings.crypto, '?')}）· {library}")
    counts = census()
    if counts:
        click.echo("库中个人信息 · stored: " + "；".join(f"{label}：{n} 条" for label, n in counts.items()))
