"""`flask setup --city NAME`, `flask users import|reset-password|list`, `flask token list|revoke` (issue 17)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from hotline.cases.errors import DomainError
from hotline.cli.commands import token
from hotline.cli.org import progress_printer
from hotline.extensions import db
from hotline.models import ApiToken, User
from hotline.org import sheets
from hotline.users import accounts, importer, tokens_admin
from hotline.users.setup import setup_city


@click.command("setup")
@click.option("--city", "city", required=True, help="The city's name, e.g. 江城市.")
@click.option("--code", default="CITY", show_default=True, help="Code of the city unit (parent_code of districts).")
@click.option("--admin", "admin_username", default="admin", show_default=True, help="Username of the first admin.")
@click.option("--admin-name", default="系统管理员", show_default=True, help="Display name of the first admin.")
@with_appcontext
def setup(city: str, code: str, admin_username: str, admin_name: str):
    """Set up a real city on an empty database: the city unit and one admin with a one-time password."""
    try:
        unit, admin, plain = setup_city(city, code, admin_username, admin_name, current_app.config["HOTLINE"])
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"城市「{unit.name}」已建立（单位代码 {unit.code}），系统管理员账号：{admin.username}")
    click.echo(
        "一次性密码见最后一行（只显示这一次，首次登录后必须修改；有效期 "
        f"{current_app.config['HOTLINE'].one_time_password_days} 天）"
    )
    click.echo(
        f"下一步：flask org import 单位.xlsx（区县的上级单位代码填 {unit.code}）、flask places import、"
        "flask users import",
        err=True,
    )
    click.echo(f"{admin.username}\t{plain}")  # the last line: USERNAME<TAB>ONE-TIME-PASSWORD


@click.group("users")
def users():
    """Staff accounts."""


def _write_passwords(path: Path, rows: list[tuple[str, str]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # one-time passwords: owner only
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write("username,one_time_password\n")
        fh.writelines(f"{u},{p}\n" for u, p in rows)


@users.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="Import the valid rows even when some rows are bad.")
@click.option(
    "--passwords",
    "passwords_path",
    type=click.Path(dir_okay=False),
    help="Also write username,one_time_password of the new users to this CSV (mode 0600).",
)
@with_appcontext
def users_import(path: str, partial: bool, passwords_path: str | None):
    """Load users (CSV/XLSX: username,name,role,unit_code[,phone,email]): new users get a one-time password, printed
    as USERNAME<TAB>ONE-TIME-PASSWORD on stdout, to be changed at first login; existing usernames are updated.
    Nothing is loaded if any row is bad (unless --partial). Messages and progress go to stderr."""
    try:
        rows = sheets.read_file(path, importer.COLUMNS, importer.REQUIRED)
    except sheets.SheetError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"读取 {len(rows)} 行，正在检查……", err=True)
    settings = current_app.config["HOTLINE"]
    report = importer.apply(rows, settings, partial=partial, progress=progress_printer("写入账号", 5000))
    for error in report.errors:
        click.echo(str(error), err=True)
    if not report.applied:
        db.session.rollback()
        raise click.ClickException(
            f"共 {report.total} 行，其中 {len(report.errors)} 行有错误，未导入任何账号。"
            "请修正后重新导入，或加 --partial 只导入正确的行。"
        )
    db.session.commit()
    if passwords_path and report.passwords:
        _write_passwords(Path(passwords_path), report.passwords)
    if report.passwords:
        click.echo("\n".join(f"{u}\t{p}" for u, p in report.passwords))
    skipped = f"，跳过有错误的 {len(report.errors)} 行（--partial）" if report.errors else ""
    click.echo(
        f"导入完成：共 {report.total} 行，新增 {report.added}，更新 {report.updated}，"
        f"未变 {report.unchanged}{skipped}。"
        "新账号的一次性密码见标准输出（每行：用户名<TAB>一次性密码），首次登录须修改。",
        err=True,
    )


@users.command("reset-password")
@click.argument("username")
@with_appcontext
def users_reset_password(username: str):
    """Give USERNAME a new one-time password (printed once; to be changed at the next login)."""
    try:
        user = accounts.get(username)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    plain = accounts.reset_password(None, user, current_app.config["HOTLINE"])
    db.session.commit()
    click.echo(f"已为 {username} 重置密码，一次性密码（只显示这一次，登录后必须修改）：")
    click.echo(plain)


@users.command("reset-totp")
@click.argument("username")
@with_appcontext
def users_reset_totp(username: str):
    """Remove USERNAME's second factor (a lost phone): enrolment again at the next login."""
    try:
        user = accounts.get(username)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    accounts.reset_totp(None, user)
    db.session.commit()
    click.echo(f"已重置 {username} 的两步验证，下次登录时重新绑定")


@token.command("list")
@click.option("--user", "username", help="Only this user's tokens.")
@with_appcontext
def token_list(username: str | None):
    """List API tokens (id, user, label, first characters, created, revoked)."""
    query = sa.select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if username:
        query = query.where(User.username == username)
    for tok, owner in db.session.execute(query):
        state = f"已吊销 {tok.revoked_at:%Y-%m-%d %H:%M}" if tok.revoked_at else "有效"
        click.echo(
            f"{tok.id:>6}  {owner:<20} {tok.hint or '-':<12} {tok.label or '-':<20} "
            f"{tok.created_at:%Y-%m-%d %H:%M}  {state}"
        )


@token.command("revoke")
@click.argument("username", required=False)
@click.option("--id", "token_id", type=int, help="Revoke only this token (see `flask token list`).")
@with_appcontext
def token_revoke(username: str | None, token_id: int | None):
    """Revoke every valid API token of USERNAME (or only token --id N)."""
    if (token_id is None) == (username is None):
        raise click.UsageError("请指定用户名，或 --id 令牌编号（二选一）")
    try:
        if token_id is not None:
            revoked = [tokens_admin.revoke(None, token_id)]
        else:
            revoked = tokens_admin.revoke_all_of(None, accounts.get(username))
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"已吊销 {len(revoked)} 个令牌" + (f"：{', '.join(str(t.id) for t in revoked)}" if revoked else ""))


COMMANDS = (setup, users)
