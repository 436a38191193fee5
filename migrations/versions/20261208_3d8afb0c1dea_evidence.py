"""evidence: issue 18: attachments, storage, locations, recordings

Revision ID: 3d8afb0c1dea
Revises: 2c79eafb0cd9
Create Date: 2026-12-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3d8afb0c1dea"
down_revision = "2c79eafb0cd9"
branch_labels = None
depends_on = None


def upgrade():
    # cases.lat / lng / location_source exist already (20261207_b02d3e4f5a62_open311_publication)
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumb_key", sa.String(length=200), nullable=True),
        sa.Column("thumb_status", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "checksum", name="uq_attachments_case_checksum"),
    )
    op.create_index(
        "ix_attachments_thumb_pending",
        "attachments",
        ["id"],
        unique=False,
        postgresql_where=sa.text("thumb_status = 'pending'"),
        sqlite_where=sa.text("thumb_status = 'pending'"),
    )


def downgrade():
    op.drop_index(
        "ix_attachments_thumb_pending",
        table_name="attachments",
        postgresql_where=sa.text("thumb_status = 'pending'"),
        sqlite_where=sa.text("thumb_status = 'pending'"),
    )
    op.drop_table("attachments")
