"""Staff accounts: checks and changes shared by the admin pages, /api/v1/users, the import and the CLI.

Each function changes rows and flushes; the caller commits. Role changes, enabling/disabling and password resets
are written to the administration audit log (``hotline.audit.record``) in the same transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline import audit
from hotline.auth import passwords, sessions, totp
from hotline.auth.roles import DEPARTMENT, ROLE_LABELS
from hotline.cases.errors import Conflict, InvalidInput, NotFound
from hotline.extensions import db
from hotline.models import Department, User
from hotline.models.types import utcnow

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,30}$")
FIELDS = ("username", "name", "role", "unit", "phone", "email")
SNAPSHOT = ("username", "name", "role", "department_code", "phone", "email", "active")


def snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "department_code": user.department.code if user.department else None,
        "phone": user.phone,
        "email": user.email,
        "active": user.active,
    }


def to_dict(user: User) -> dict:
    """The admin view of an account (no hash, no secret)."""
    return {
        **snapshot(user),
        "department_name": user.department.name if user.department else None,
        "role_label": user.role_label,
        "must_change_password": user.must_change_password,
        "totp_enabled": user.totp_enabled_at is not None,
        "sso": user.oidc_subject is not None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def check_fields(values: dict, units: dict[str, Department] | None = None) -> tuple[dict, dict[str, str]]:
    """Clean the given fields (any of FIELDS): returns (clean values, {field: Chinese problem}). ``unit`` becomes
    ``department`` (a Department or None); ``units`` maps codes to units (one query for a whole import)."""
    clean, bad = {}, {}
    if "username" in values:
        username = (values["username"] or "").strip()
        if not USERNAME.match(username):
            bad["username"] = "用户名应为 2–64 个字母、数字或 _ . @ -，以字母或数字开头"
        clean["username"] = username
    if "name" in values:
        name = (values["name"] or "").strip()
        if not 1 <= len(name) <= 64:
            bad["name"] = "姓名应为 1–64 个字符"
        clean["name"] = name
    if "role" in values:
        role = (values["role"] or "").strip()
        label_to_role = {label: r for r, label in ROLE_LABELS.items()}
        role = label_to_role.get(role, role)  # 话务员 or agent
        if role not in ROLE_LABELS:
            bad["role"] = f"未知的角色「{role[:20]}」，可选：" + "、".join(
                f"{r}（{lbl}）" for r, lbl in ROLE_LABELS.items()
            )
        clean["role"] = role
    if "unit" in values:
        code = (values["unit"] or "").strip()
        unit = None
        if code:
            unit = units.get(code) if units is not None else _unit(code)
            if unit is None:
                bad["unit"] = f"单位代码「{code[:32]}」不存在"
            elif not unit.active:
                bad["unit"] = f"单位「{unit.name}」已停用"
        clean["department"] = unit
    if "phone" in values:
        phone = (values["phone"] or "").strip()
        if phone and not PHONE.match(phone):
            bad["phone"] = "电话号码格式不正确"
        clean["phone"] = phone
    if "email" in values:
        email = (values["email"] or "").strip()
        if email and (len(email) > 255 or not EMAIL.match(email)):
            bad["email"] = "电子邮箱格式不正确"
        clean["email"] = email
    role = clean.get("role")
    if role in DEPARTMENT and "department" in clean and clean["department"] is None and "unit" not in bad:
        bad["unit"] = f"{ROLE_LABELS[role]}必须属于一个单位（填写单位代码）"
    return clean, bad


def _unit(code: str) -> Department | None:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def get(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == (username or "")[:64]))
    if user is None:
        raise NotFound("user_not_found", f"用户「{(username or '')[:40]}」不存在")
    return user


def _refuse(bad: dict[str, str]) -> None:
    if bad:
        raise InvalidInput("invalid_input", "提交的内容有误：" + "；".join(bad.values()), bad)


def one_time_expiry(settings, now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(days=settings.one_time_password_days)


def give_one_time_password(user: User, settings, now: datetime | None = None) -> str:
    """A new one-time password for ``user`` (returned in clear, shown once): it must be changed at the next login,
    expires after HOTLINE_ONE_TIME_PASSWORD_DAYS, and every open session of the user ends."""
    plain = passwords.new_one_time_password()
    user.password_hash = passwords.hash_one_time(plain)
    user.must_change_password = True
    user.demo_password = False
    user.password_expires_at = one_time_expiry(settings, now)
    if user.id is not None:
        sessions.revoke_all(user)
    return plain


def set_own_password(user: User, password: str, settings) -> None:
    """The user's own new password: checked against the policy, Argon2id, the one-time flags cleared."""
    problems = passwords.problems(password, user.username, settings.password_min_length)
    if problems:
        raise InvalidInput("weak_password", "；".join(problems), {"password": "；".join(problems)})
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = False
    user.password_expires_at = None
    user.demo_password = False


def create(actor, values: dict, settings, now: datetime | None = None) -> tuple[User, str]:
    """A new account from ``values`` (FIELDS); returns it with its one-time password."""
    clean, bad = check_fields({k: values.get(k, "") for k in FIELDS})
    if not bad.get("username") and db.session.scalar(sa.select(User.id).where(User.username == clean["username"])):
        bad["username"] = f"用户名「{clean['username']}」已存在"
    _refuse(bad)
    user = User(
        username=clean["username"],
        name=clean["name"],
        role=clean["role"],
        department=clean["department"],
        phone=clean["phone"],
        email=clean["email"],
        password_hash="!",  # noqa: S106 - no password until the one-time one below
    )
    db.session.add(user)
    plain = give_one_time_password(user, settings, now)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.username, after=snapshot(user))
    return user, plain


def update(actor, user: User, values: dict) -> User:
    """Change name, role, unit, phone, e-mail (any subset). A role change is audited as ``user.role``."""
    given = {k: v for k, v in values.items() if k in FIELDS and k != "username"}
    if "role" in given and "unit" not in given:
        given["unit"] = user.department.code if user.department else ""
    clean, bad = check_fields(given)
    _refuse(bad)
    before = snapshot(user)
    for key in ("name", "role", "phone", "email"):
        if key in clean:
            setattr(user, key, clean[key])
    if "department" in clean:
        user.department = clean["department"]
    db.session.flush()
    after = snapshot(user)
    if after == before:
        return user
    if after["role"] != before["role"]:
        audit.record(
            actor, "user.role", "user", user.username, before={"role": before["role"]}, after={"role": after["role"]}
        )
        sessions.revoke_all(user)  # the new rights apply from the next login: no session keeps the old ones
    audit.record(actor, "user.update", "user", user.username, before=before, after=after)
    return user


def set_active(actor, user: User, active: bool) -> User:
    if getattr(actor, "id", None) == user.id and not active:
        raise Conflict("own_account", "不能停用自己的账号")
    if user.active == active:
        return user
    user.active = active
    if not active:
        sessions.revoke_all(user)
    db.session.flush()
    audit.record(
        actor,
        "user.enable" if active else "user.disable",
        "user",
        user.username,
        before={"active": not active},
        after={"active": active},
    )
    return user


def reset_totp(actor, user: User) -> User:
    """Remove the user's second factor (a lost phone): the next login asks for enrolment again if the role requires
    it. Every session of the user ends."""
    totp.disable(user)
    sessions.revoke_all(user)
    db.session.flush()
    audit.record(actor, "user.totp_reset", "user", user.username, detail="两步验证已重置，下次登录重新绑定")
    return user


def reset_password(actor, user: User, settings, now: datetime | None = None) -> str:
    plain = give_one_time_password(user, settings, now)
    db.session.flush()
    audit.record(actor, "user.password_reset", "user", user.username, detail="一次性密码，首次登录须修改")
    return plain
