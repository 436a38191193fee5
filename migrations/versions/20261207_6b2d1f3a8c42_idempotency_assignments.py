"""idempotency keys; one live assignment per case, unit and role

- ``idempotency_keys``: the first answer to a request sent with an ``Idempotency-Key`` (``POST /api/v1/cases``,
  Open311, the portal form's single-use form id), unique per (scope, key), pruned after 24 h.
- ``ux_assignments_live``: a partial unique index, one live (pending or signed) assignment per case, unit and
  role; a returned, cancelled, replied or delegated assignment may be followed by a new one for the same unit.

Existing duplicates (left by concurrent 协办派单 before this revision) are cleaned up rather than refused: of
each group of live assignments with the same case, unit and role the most advanced one is kept (signed before
pending, first contact recorded before not, then the oldest), the others are set to ``cancelled``, their SLA
timers stopped (``sla_timers.next_card_at`` NULL), and each cancellation is written to the case's timeline
(action ``cancel_duplicate``), so the audit trail says what happened. Nothing is deleted. The number of
cancelled rows is printed. Downgrade drops the index and the table (cancelled duplicates stay cancelled).

Revision ID: 6b2d1f3a8c42
Revises: 5a1c0e2f7b31
Create Date: 2026-12-07 17:15:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "6b2d1f3a8c42"
down_revision = "5a1c0e2f7b31"
branch_labels = None
depends_on = None

LIVE = "status IN ('pending', 'signed')"
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("case_number", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_created_at", ["created_at"], unique=False)

    cancelled = _cancel_duplicate_live_assignments()
    if cancelled:
        print(f"6b2d1f3a8c42: {cancelled} duplicate live assignment(s) cancelled (see the cases' timelines)")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ux_assignments_live",
            ["case_id", "department_id", "role"],
            unique=True,
            postgresql_where=sa.text(LIVE),
            sqlite_where=sa.text(LIVE),
        )


def _rank(row) -> tuple:
    """Sort key, best first: signed, then first contact recorded, then the oldest."""
    return (row.status != "signed", row.contacted_at is None, row.id)


def _cancel_duplicate_live_assignments() -> int:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT a.id, a.case_id, a.department_id, a.role, a.status, a.contacted_at, c.status AS case_status "
            "FROM assignments a JOIN cases c ON c.id = a.case_id "
            "WHERE a.status IN ('pending', 'signed') AND EXISTS (SELECT 1 FROM assignments b WHERE b.case_id = a.case_id "
            "AND b.department_id = a.department_id AND b.role = a.role AND b.id <> a.id AND b.status IN "
            "('pending', 'signed')) ORDER BY a.case_id, a.department_id, a.role, a.id"
        )
    ).all()
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault((row.case_id, row.department_id, row.role), []).append(row)
    now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC (hotline/models/types.py)
    events = sa.table(
        "case_events",
        sa.column("case_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_label", sa.String),
        sa.column("department_id", sa.Integer),
        sa.column("note", sa.Text),
        sa.column("data", JSON),
        sa.column("created_at", sa.DateTime),
    )
    cancelled, log = [], []
    for group in groups.values():
        keep, *extra = sorted(group, key=_rank)
        for row in extra:
            cancelled.append(row.id)
            role = "主办" if row.role == "lead" else "协办"
            log.append(
                {
                    "case_id": row.case_id,
                    "action": "cancel_duplicate",
                    "from_status": row.case_status,
                    "to_status": row.case_status,
                    "actor_id": None,
                    "actor_label": "系统（数据修复）",
                    "department_id": row.department_id,
                    "note": f"撤销重复的{role}任务（同一单位已有在办任务，保留任务 #{keep.id}）",
                    "data": {"assignment_id": row.id, "kept": keep.id, "status": row.status, "revision": revision},
                    "created_at": now,
                }
            )
    for start in range(0, len(cancelled), 500):
        ids = cancelled[start : start + 500]
        conn.execute(
            sa.text("UPDATE assignments SET status = 'cancelled' WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )
        conn.execute(
            sa.text("UPDATE sla_timers SET next_card_at = NULL WHERE assignment_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )
    if log:
        op.bulk_insert(events, log)
    return len(cancelled)


def downgrade():
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ux_assignments_live", postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_created_at")
    op.drop_table("idempotency_keys")
