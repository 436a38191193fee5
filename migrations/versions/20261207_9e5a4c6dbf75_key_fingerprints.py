"""key_fingerprints: the fingerprints of the shared keys the database was written with

Revision ID: 9e5a4c6dbf75
Revises: 8d4f3b5cae64
Create Date: 2026-12-07 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9e5a4c6dbf75"
down_revision = "8d4f3b5cae64"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "key_fingerprints",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_key_fingerprints")),
    )


def downgrade():
    op.drop_table("key_fingerprints")
