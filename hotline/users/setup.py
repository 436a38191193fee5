"""A real city, not the demo: ``flask setup --city NAME`` and the production start's refusal of demo passwords.

``setup_city`` makes an empty database a city: the city unit (the root of the unit tree that ``flask org import``
fills), the default SLA policy, and one administrator whose one-time password is returned to be printed once.
``refuse_demo_passwords`` runs at every start: in production mode (HOTLINE_ENV=production) an account still
holding the demo password of ``seed --demo`` stops the start.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from hotline import audit
from hotline.auth.roles import Role
from hotline.cases.errors import Conflict
from hotline.db.refcache import bump_version
from hotline.extensions import db
from hotline.models import Department, SlaPolicy, User
from hotline.sla.deadlines import default_rules
from hotline.users import accounts

log = logging.getLogger(__name__)


class DemoPasswords(RuntimeError):
    """Production mode with accounts that still have the demo password."""

    def __init__(self, usernames: list[str], total: int):
        self.usernames, self.total = usernames, total
        names = "、".join(usernames) + ("等" if total > len(usernames) else "")
        super().__init__(
            f"生产模式（HOTLINE_ENV=production）拒绝启动：{total} 个账号仍在使用示范数据（seed --demo）的公开密码"
            f"（{names}）。请停用这些账号或为其重置密码（flask users reset-password USERNAME），"
            "正式城市请用 flask setup --city 建立。 / Production mode: accounts still have the public demo password."
        )


def demo_password_accounts(limit: int = 10) -> tuple[list[str], int]:
    where = User.demo_password.is_(True)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(where)) or 0
    names = list(db.session.scalars(sa.select(User.username).where(where).order_by(User.username).limit(limit)))
    return names, total


def refuse_demo_passwords(app) -> None:
    """At start: production mode stops on a demo-password account; otherwise a warning. A database not yet migrated
    (no column) is only logged, like the key check."""
    settings = app.config["HOTLINE"]
    try:
        names, total = demo_password_accounts()
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("启动时未能检查示范密码（%s）", exc.__class__.__name__)
        return
    finally:
        db.session.remove()
    if not total:
        return
    if settings.production:
        raise DemoPasswords(names, total)
    log.warning("%d 个账号仍在使用示范密码（%s）：仅供演示，生产模式会拒绝启动", total, "、".join(names))


def setup_city(name: str, code: str, admin_username: str, admin_name: str, settings) -> tuple[Department, User, str]:
    """Create the city unit and its first administrator on an empty database; returns (city, admin, one-time
    password). Refused when the database already holds units or users (a demo or a city already set up)."""
    units = db.session.scalar(sa.select(sa.func.count()).select_from(Department)) or 0
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    if units or users:
        raise Conflict(
            "not_empty",
            f"数据库不是空的（已有 {units} 个单位、{users} 个账号），不能再建立新城市。"
            "请使用新的空数据库（先运行 flask db upgrade）。",
        )
    clean, bad = accounts.check_fields({"name": admin_name, "username": admin_username})
    name, code = name.strip(), code.strip()
    if not 2 <= len(name) <= 100:
        bad["city"] = "城市名称应为 2–100 个字符"
    if not code or len(code) > 32 or "/" in code:
        bad["code"] = "城市单位代码应为 1–32 个字符，且不含 /"
    accounts._refuse(bad)
    city = Department(code=code, name=name, kind="city", parent=None, path=f"/{code}/", aliases=[])
    db.session.add(city)
    if not db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)):
        db.session.add(SlaPolicy(version=1, rules=default_rules(), active=True, note="默认时限（flask setup）"))
    admin = User(username=clean["username"], name=clean["name"], role=Role.ADMIN, department=city, password_hash="!")  # noqa: S106
    db.session.add(admin)
    plain = accounts.give_one_time_password(admin, settings)
    db.session.flush()
    audit.record(None, "city.setup", "unit", code, after={"city": name, "admin": admin.username})
    bump_version()
    return city, admin, plain
