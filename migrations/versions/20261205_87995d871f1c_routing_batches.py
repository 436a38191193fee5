"""routing batches

routing_batches: the batches routing jobs committed (PostgreSQL), ids in commit order; a job checks its cases
against the batches committed while it was routing (hotline/dispatch/routing_queue.py). Pruned daily.

Revision ID: 87995d871f1c
Revises: dcfb61576bed
Create Date: 2026-12-05 16:00:29.986925

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "87995d871f1c"
down_revision = "dcfb61576bed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "routing_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "case_ids", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_batches")),
    )


def downgrade():
    op.drop_table("routing_batches")
