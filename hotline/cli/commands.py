"""Flask CLI commands: seed, token, keys, cti, routing (`worker` and `scheduler` live in workers/cli.py)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from hotline.auth.tokens import create_token
from hotline.citizens import keyset
from hotline.citizens.rotation import rotate
from hotline.cli.cti_simulator import simulate_call
from hotline.cli.keys import keys_check
from hotline.dispatch import model_store
from hotline.dispatch.duplicates import rebuild_keys
from hotline.extensions import db
from hotline.models import User


@click.command()
@click.option("--demo", is_flag=True, help="Load the demo city (departments, taxonomy, users, SLA policy).")
@click.option("--if-empty", is_flag=True, help="Only when the database has no departments yet.")
@click.option(
    "--history",
    "history",
    type=click.IntRange(0, 730),
    default=None,
    help="Days of demo history (cases through the real operations, then the daily rollup); 0 to skip. "
    "Default: HOTLINE_DEMO_HISTORY_DAYS (90).",
)
@with_appcontext
def seed(demo: bool, if_empty: bool, history: int | None):
    """Seed the database (idempotent)."""
    # lazy on purpose: wsgi registers every command in each web process, which must not load the demo data
    from hotline.seed import city
    from hotline.seed.loader import is_empty, seed_demo

    if not demo:
        raise click.UsageError("请指定 --demo（示范城市数据）")
    if current_app.config["HOTLINE"].production:
        raise click.ClickException(
            "生产模式（HOTLINE_ENV=production）不能载入示范数据：正式城市请用 flask setup --city 名称"
        )
    if if_empty and not is_empty():
        click.echo("数据库已有数据，跳过示范数据。")
        return
    report = seed_demo()
    if history is None:
        history = current_app.config["HOTLINE"].demo_history_days
    if history:
        from hotline.seed.history_run import generate

        def progress(done: int, days: int) -> None:
            if done % 10 == 0 or done == days:
                click.echo(f"  历史工单：已生成 {done}/{days} 天", err=True)

        report["history"] = generate(history, progress=progress)
    click.echo(f"示范城市已就绪：{report}")
    click.echo(f"演示账号（密码均为 {city.DEMO_PASSWORD}）：")
    for user in city.USERS:
        click.echo(f"  {user['username']:<16} {user['role']:<20} {user['department'] or ''}")


@click.group()
def token():
    """API tokens."""


@token.command("create")
@click.argument("username")
@with_appcontext
def token_create(username: str):
    """Create an API token for USERNAME; the token is the last line of output."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"用户不存在：{username}")
    value = create_token(user)
    db.session.commit()
    click.echo(f"已为 {username} 创建 API 令牌（仅显示一次）：")
    click.echo(value)


@click.group()
def keys():
    """Encryption keys of personal data."""


@keys.command("rotate")
@with_appcontext
def keys_rotate():
    """Re-encrypt phones and names with HOTLINE_DATA_KEY (old keys in HOTLINE_DATA_KEYS_OLD)."""
    changed = rotate(progress=lambda line: click.echo(line))
    if keyset.table_ready():  # the database is now written with the new key: other hosts are compared with it
        keyset.record(current_app.config["HOTLINE"], ["data_key"])
        db.session.commit()
    click.echo(f"已用新密钥重新加密 {changed} 条个人信息。之后可从 HOTLINE_DATA_KEYS_OLD 中移除旧密钥。")


keys.add_command(keys_check)


@click.group()
def cti():
    """Call platform (CTI) tools."""


@cti.command("simulate")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="The running hotline.")
@click.option("--caller", required=True, help="Calling number, e.g. 13800138000.")
@click.option("--agent", default="agent1", show_default=True, help="Agent username the call rings at.")
@click.option("--talk", default=3.0, show_default=True, help="Seconds between answered and ended.")
def cti_simulate(url: str, caller: str, agent: str, talk: float):
    """Post signed ringing/answered/ended events, as the call platform would."""
    call_id = simulate_call(url, current_app.config["HOTLINE"].cti_secret, caller, agent, talk, echo=click.echo)
    click.echo(call_id)


@click.group()
def routing():
    """The case router (category classifier)."""


@routing.command("train")
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder of *.tsv files: text<TAB>level-1 category.",
)
@with_appcontext
def routing_train(data_dir: str):
    """Train the classifier on DIR/*.tsv and store it in the instance folder (loaded by every process)."""
    # lazy on purpose: the training code (scikit-learn) stays out of the web processes that register this command
    from routing.classifier import load_tsv_dir, train
    from routing.model import model_path

    try:
        data = load_tsv_dir(data_dir)
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from None
    for name, counts in data.files.items():
        click.echo(f"{name}: {counts['rows']} 行，跳过 {counts['skipped']} 行")
    if len(set(data.labels)) < 2:
        raise click.ClickException("至少需要两个分类的样本才能训练")
    click.echo(f"训练中：{len(data.texts)} 条样本，{len(set(data.labels))} 个分类…")
    model = train(data.texts, data.labels)
    path = model_path(current_app.config["HOTLINE"].instance)
    model.save(path)
    model_store.publish(path, "cli")
    db.session.commit()
    click.echo(f"模型已保存：{path}（已写入数据库，其他主机的进程在 30 秒内载入）")


@routing.command("dupkeys")
@with_appcontext
def routing_dupkeys():
    """Rebuild the duplicate-check keys of every open case (after an upgrade from a version without them)."""
    count = rebuild_keys()
    db.session.commit()
    click.echo(f"已为 {count} 件在办工单重建查重索引")


COMMANDS = (seed, token, keys, cti, routing)  # `worker` and `scheduler`: workers/cli.py
