"""routing_model_files: the trained routing model shared by every host through the database

Revision ID: e35a6b7c8d95
Revises: d24f5a6b7c84
Create Date: 2026-12-07 20:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e35a6b7c8d95"
down_revision = "d24f5a6b7c84"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "routing_model_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_model_files")),
    )


def downgrade():
    op.drop_table("routing_model_files")
