"""Bulk import of staff accounts (``flask users import FILE``, the users page's upload): CSV/XLSX rows
``username,name,role,unit_code[,phone,email]`` checked row by row (Chinese reasons with the line), all-or-nothing unless
``partial``. New usernames are inserted with a one-time password each (returned, to be handed out; changed at
first login); existing ones updated (a role change audited per user). Core executemany statements in batches, so
50,000 rows load in seconds (tests/bench/users_import.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from hotline import audit
from hotline.auth import passwords
from hotline.extensions import db
from hotline.models import Department, User
from hotline.models.types import utcnow
from hotline.org.units import RowError  # the same row error as the unit import (第 N 行：…)
from hotline.users import accounts

COLUMNS = ("username", "name", "role", "unit_code", "phone", "email")
REQUIRED = ("username", "name", "role")
BATCH = 2000
EDITABLE = ("name", "role", "department_id", "phone", "email")


@dataclass
class Report:
    total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)
    passwords: list[tuple[str, str]] = field(default_factory=list)  # (username, one-time password) of new users

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "applied": self.applied,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


def _existing() -> dict[str, dict]:
    cols = (User.id, User.username, User.name, User.role, User.department_id, User.phone, User.email)
    return {r.username: dict(r._mapping) for r in db.session.execute(sa.select(*cols))}


def _check(rows: list[dict]) -> tuple[list[tuple[int, dict]], list[RowError]]:
    units = {d.code: d for d in db.session.scalars(sa.select(Department))}
    seen: dict[str, int] = {}
    good, errors = [], []
    for raw in rows:
        line = raw.get("line", 0)
        given = {k: raw.get(k, "") for k in ("username", "name", "role", "phone", "email")}
        clean, bad = accounts.check_fields(given | {"unit": raw.get("unit_code", "")}, units)
        if not bad.get("username"):
            key = clean["username"].lower()
            if key in seen:
                bad["username"] = f"用户名「{clean['username']}」与第 {seen[key]} 行重复"
            else:
                seen[key] = line
        if bad:
            errors.append(RowError(line, "；".join(bad.values())))
        else:
            good.append((line, clean))
    return good, errors


def apply(
    rows: list[dict], settings, partial: bool = False, actor=None, progress: Callable[[int, int], None] | None = None
) -> Report:
    """Check every row, then (all good, or ``partial``) insert/update; flushes, the caller commits."""
    report = Report(total=len(rows))
    good, report.errors = _check(rows)
    if report.errors and not partial:
        return report
    existing = _existing()
    now = utcnow()
    expires = accounts.one_time_expiry(settings, now)
    inserts, updates, role_changes = [], [], []
    for _line, c in good:
        values = {
            "name": c["name"],
            "role": c["role"],
            "department_id": c["department"].id if c["department"] else None,
            "phone": c["phone"],
            "email": c["email"],
        }
        old = existing.get(c["username"])
        if old is None:
            plain = passwords.new_one_time_password()
            report.passwords.append((c["username"], plain))
            inserts.append(
                values
                | {
                    "username": c["username"],
                    "password_hash": passwords.hash_one_time(plain),
                    "must_change_password": True,
                    "password_expires_at": expires,
                    "active": True,
                    "created_at": now,
                }
            )
        elif any(old[k] != values[k] for k in EDITABLE):
            updates.append(values | {"b_id": old["id"]})
            if old["role"] != values["role"]:
                role_changes.append((c["username"], old["role"], values["role"]))
        else:
            report.unchanged += 1
    total, done = len(inserts) + len(updates), 0
    table = User.__table__
    for start in range(0, len(inserts), BATCH):
        batch = inserts[start : start + BATCH]
        db.session.execute(sa.insert(table), batch)
        done += len(batch)
        if progress:
            progress(done, total)
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({k: sa.bindparam(k) for k in EDITABLE})
        .execution_options(synchronize_session=False)
    )
    for start in range(0, len(updates), BATCH):
        batch = updates[start : start + BATCH]
        db.session.connection().execute(update, batch)
        done += len(batch)
        if progress:
            progress(done, total)
    if role_changes:  # the new rights apply from the next login
        names = [u for u, _, _ in role_changes]
        for start in range(0, len(names), BATCH):
            db.session.execute(
                sa.update(table)
                .where(table.c.username.in_(names[start : start + BATCH]))
                .values(session_generation=table.c.session_generation + 1)
                .execution_options(synchronize_session=False)
            )
    for username, before, after in role_changes:
        audit.record(
            actor, "user.role", "user", username, before={"role": before}, after={"role": after}, detail="批量导入"
        )
    report.added, report.updated = len(inserts), len(updates)
    report.applied = True
    audit.record(actor, "user.import", "user", "", after=report.to_dict() | {"errors": len(report.errors)})
    db.session.flush()
    return report
