"""console_events: the durable, ordered log of console events

Every Socket.IO event of /console is a row of ``console_events`` (id = the cursor clients catch up from), written
in the transaction of the change. ``console_cursor`` holds one row: the last cursor handed out (its row lock
orders the cursors by commit, hotline/realtime/eventlog.py) and the highest cursor the retention job deleted.

The first cursor continues after the highest timeline event id: before this revision a payload's ``cursor`` was
the timeline event's id, so a client still holding one never skips the new events.

Revision ID: 8d4f3b5cae64
Revises: 7c3e2a4b9d53
Create Date: 2026-12-07 17:15:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "8d4f3b5cae64"
down_revision = "7c3e2a4b9d53"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "console_events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("rooms", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_events")),
    )
    with op.batch_alter_table("console_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_events_created_at"), ["created_at"], unique=False)
    cursor = op.create_table(
        "console_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.Column("pruned", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_cursor")),
    )
    start = op.get_bind().scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM case_events"))
    op.bulk_insert(cursor, [{"id": 1, "last": int(start or 0), "pruned": 0}])


def downgrade():
    op.drop_table("console_cursor")
    with op.batch_alter_table("console_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_events_created_at"))
    op.drop_table("console_events")
