"""cases.routing_pending: the routing queue (suggestions, duplicates and auto-dispatch run in a worker job)

Existing cases were routed at registration, so the column starts false for them (a constant default:
no table rewrite on PostgreSQL). Only pending cases are in the partial index the job reads.

Revision ID: 3c1d9e7a5b20
Revises: a79981b6d372
Create Date: 2026-12-05 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3c1d9e7a5b20"
down_revision = "a79981b6d372"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("routing_pending", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            "ix_cases_routing_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("routing_pending"),
            sqlite_where=sa.text("routing_pending"),
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_cases_routing_pending",
            postgresql_where=sa.text("routing_pending"),
            sqlite_where=sa.text("routing_pending"),
        )
        batch_op.drop_column("routing_pending")
