"""unit_routing: issue 22: lexicon, fine-grained routing, training labels, quality

Tables: ``routing_lexicon`` (everyday words per taxonomy category, admin-editable; the fine-grained router's
cold-start vocabulary).

Revision ID: 71ce3f4a5b2e
Revises: 60bd2e3f4a1d
Create Date: 2026-12-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "71ce3f4a5b2e"
down_revision = "60bd2e3f4a1d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "routing_lexicon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_routing_lexicon_category_id_categories")
        ),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_routing_lexicon_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_lexicon")),
        sa.UniqueConstraint("category_id", name=op.f("uq_routing_lexicon_category_id")),
    )


def downgrade():
    op.drop_table("routing_lexicon")
