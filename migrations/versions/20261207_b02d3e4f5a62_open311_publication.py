"""open311_publication: Open311 publication flag and tokens (issue 16, open311)

Where a case happened (``cases.lat``, ``lng``, ``location_source``: nullable, filled by Open311's lat/long today);
``open311_requests`` (a case submitted through Open311: its media_url, the name given, the hashed token of a
confidential report); ``case_publications`` (a supervisor's latest decision to publish a case in the public feed).

Revision ID: b02d3e4f5a62
Revises: af1c2d3e4b51
Create Date: 2026-12-07 20:00:00

"""

import sqlite3

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b02d3e4f5a62"
down_revision = "af1c2d3e4b51"
branch_labels = None
depends_on = None


def _cases_batch():
    """Batch changes of ``cases``. On SQLite 3.35+ as plain ALTER TABLE … ADD/DROP COLUMN: a batch copy of ``cases``
    would DROP TABLE cases, which the rows of case_events, assignments … refuse with foreign keys on."""
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 35):
        return op.batch_alter_table("cases", recreate="never")
    return op.batch_alter_table("cases")


def upgrade():
    with _cases_batch() as batch:
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lng", sa.Float(), nullable=True))
        batch.add_column(sa.Column("location_source", sa.String(length=16), nullable=True))
    op.create_table(
        "open311_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column("name_enc", sa.Text(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_open311_requests_case_id_cases")),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_open311_requests_client_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_requests")),
        sa.UniqueConstraint("case_id", name=op.f("uq_open311_requests_case_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_open311_requests_token_hash")),
    )
    op.create_table(
        "case_publications",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_publications_case_id_cases")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_case_publications_decided_by_id_users")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_publications")),
    )
    op.create_index("ix_case_publications_public", "case_publications", ["public"], unique=False)


def downgrade():
    op.drop_index("ix_case_publications_public", table_name="case_publications")
    op.drop_table("case_publications")
    op.drop_table("open311_requests")
    with _cases_batch() as batch:
        batch.drop_column("location_source")
        batch.drop_column("lng")
        batch.drop_column("lat")
