"""organisation: units of a real city: four levels, aliases, retired units (issue 17, organisation)

departments.aliases: other names of a unit (东城 for 东城区), which routing's gazetteer locates by. The fourth
level (kind "community", 社区/村) and retiring a unit (active=False) need no schema change: ``kind`` is a string
and ``active`` exists. Existing rows get an empty list (the column's server default).

Revision ID: f46b7c8d9ea6
Revises: e35a6b7c8d95
Create Date: 2026-12-07 20:40:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "f46b7c8d9ea6"
down_revision = "e35a6b7c8d95"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    # ADD COLUMN with a default: no table rebuild on SQLite (departments is referenced by most tables)
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("aliases", JSON, nullable=False, server_default="[]"))


def downgrade():
    # a plain DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL): a batch rebuild would drop a table others reference
    op.drop_column("departments", "aliases")
