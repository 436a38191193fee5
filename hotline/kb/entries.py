"""Entry operations: write, version, move through the lifecycle. Flush, never commit (views/jobs commit).

Lifecycle: draft → review → published → retired (and back: review → draft when rejected, retired → draft to
rework). Every save and every status change writes a KbVersion and takes a new index change number, so
every process's search index picks it up at its next search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from hotline.auth.permissions import can
from hotline.auth.roles import Role
from hotline.cases.errors import DomainError
from hotline.extensions import db
from hotline.kb.index import bump_seq, tokenizer
from hotline.models import Category, Department, KbEntry, KbVersion, User
from hotline.models.knowledge import KB_STATUS_LABELS, SERVICE_FIELDS
from knowledge_base.text import term_vector

# action -> (allowed from-states, to-state, zh label)
TRANSITIONS = {
    "submit": (("draft",), "review", "提交审核"),
    "approve": (("review",), "published", "审核通过并发布"),
    "reject": (("review",), "draft", "退回修改"),
    "publish": (("draft", "review"), "published", "直接发布"),
    "retire": (("published",), "retired", "下线"),
    "restore": (("retired",), "draft", "恢复为草稿"),
}
# Editors hold "kb.edit" (the admin, the units' staff); reviewers "kb.review" (the admin, the units' admins).


class KbRefused(DomainError):
    """A lifecycle or permission rule refused the change (→ 422/403 with a zh-CN message); a domain error, so
    hotline/errors.py answers it like the others."""

    def __init__(self, code: str, message: str, status: int = 422):
        self.status = status
        super().__init__(code, message)


@dataclass
class EntryData:
    kind: str
    title: str
    body: str = ""
    code: str | None = None
    department: Department | None = None
    category: Category | None = None
    tags: list[str] | None = None
    districts: list[str] | None = None
    fields: dict | None = None
    valid_from: date | None = None
    valid_to: date | None = None


def owns(user: User, entry: KbEntry | None = None, department: Department | None = None) -> bool:
    """Admins own everything; a unit's staff own entries of their unit and its sub-units."""
    if user.role == Role.ADMIN:
        return True
    if not user.is_department_user or user.department is None:
        return False
    unit = department if department is not None else (entry.department if entry else None)
    return unit is not None and unit.path.startswith(user.department.path)


def check_edit(user: User, entry: KbEntry | None, department: Department | None) -> None:
    if not can(user, "kb.edit") or not owns(user, entry, department):
        raise KbRefused("forbidden", "只能编辑本单位的知识条目", 403)
    if entry is not None and entry.status in ("published", "retired") and not can(user, "kb.review"):
        raise KbRefused("kb_published", f"条目已{entry.status_label}，只有单位管理员或知识库管理员可以修改")


def compute_terms(entry: KbEntry) -> dict[str, float]:
    fields = entry.fields or {}
    return term_vector(
        tokenizer(),
        {
            "title": entry.title,
            "code": entry.code or "",
            "tags": list(entry.tags or []),
            "category": entry.category.path.replace("/", " ") if entry.category else "",
            "unit": entry.department.name if entry.department else "",
            "fields": [str(fields.get(k) or "") for k in SERVICE_FIELDS],
            "body": entry.body or "",
        },
    )


def snapshot(entry: KbEntry) -> dict:
    return {
        "kind": entry.kind,
        "code": entry.code,
        "title": entry.title,
        "body": entry.body,
        "fields": entry.fields or {},
        "tags": entry.tags or [],
        "districts": entry.districts or [],
        "department_code": entry.department.code if entry.department else None,
        "category": entry.category.path if entry.category else None,
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
        "valid_to": entry.valid_to.isoformat() if entry.valid_to else None,
        "status": entry.status,
    }


def _record(entry: KbEntry, actor: User | None, note: str) -> None:
    db.session.flush()
    db.session.add(
        KbVersion(
            entry_id=entry.id,
            version=entry.version,
            status=entry.status,
            snapshot=snapshot(entry),
            note=note,
            changed_by_id=actor.id if actor else None,
        )
    )
    entry.index_seq = bump_seq()


def _apply(entry: KbEntry, data: EntryData) -> None:
    entry.kind, entry.title, entry.body, entry.code = data.kind, data.title, data.body or "", data.code or None
    entry.department, entry.category = data.department, data.category
    entry.tags = list(dict.fromkeys(data.tags or []))
    entry.districts = list(dict.fromkeys(data.districts or []))
    entry.fields = {k: v for k, v in (data.fields or {}).items() if k in SERVICE_FIELDS and v}
    entry.valid_from, entry.valid_to = data.valid_from, data.valid_to
    entry.terms = compute_terms(entry)


def create(data: EntryData, actor: User | None, now: datetime, status: str = "draft", note: str = "") -> KbEntry:
    entry = KbEntry(
        status=status,
        version=1,
        usage_count=0,
        created_by_id=actor.id if actor else None,
        updated_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
        published_at=now if status == "published" else None,
    )
    _apply(entry, data)
    db.session.add(entry)
    _record(entry, actor, note or "新建")
    return entry


def update(entry: KbEntry, data: EntryData, actor: User | None, now: datetime, note: str = "") -> KbEntry:
    old_valid_to = entry.valid_to
    _apply(entry, data)
    if entry.valid_to != old_valid_to:
        entry.expiry_warned_on = None  # a new end date gets its own warning
    entry.version += 1
    entry.updated_by_id, entry.updated_at = (actor.id if actor else None), now
    _record(entry, actor, note or "修改内容")
    return entry


def transition(entry: KbEntry, action: str, actor: User | None, now: datetime, note: str = "") -> KbEntry:
    sources, target, label = TRANSITIONS[action]
    if entry.status not in sources:
        allowed = "、".join(KB_STATUS_LABELS[s] for s in sources)
        raise KbRefused("invalid_transition", f"条目当前为「{entry.status_label}」，只有「{allowed}」的条目可以{label}")
    if (
        actor is not None
        and action in ("approve", "reject", "publish", "retire", "restore")
        and not can(actor, "kb.review")
    ):
        raise KbRefused("forbidden", f"只有单位管理员或知识库管理员可以{label}", 403)
    if action in ("approve", "publish") and entry.valid_to and entry.valid_to < now.date():
        raise KbRefused("kb_expired", f"条目有效期已于 {entry.valid_to.isoformat()} 结束，请先修改有效期")
    entry.status = target
    entry.version += 1
    entry.updated_by_id, entry.updated_at = (actor.id if actor else None), now
    if target == "published":
        entry.published_at = now
    _record(entry, actor, note or label)
    return entry


def cite(entry_id: int) -> None:
    """One more answer used this entry (ranking by usage); a single UPDATE, no lock on the counter row."""
    db.session.execute(
        sa.update(KbEntry)
        .where(KbEntry.id == entry_id)
        .values(usage_count=KbEntry.usage_count + 1, updated_at=KbEntry.updated_at)
    )
