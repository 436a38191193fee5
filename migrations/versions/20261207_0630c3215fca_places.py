"""places: the gazetteer in the database

places: the short forms, roads, communities and landmarks by which routing locates a case (and the KB's
tokenizer keeps whole), each belonging to a unit (department_id). Until now they were read from the demo
seed's code at run time, so every instance had the demo city's places. An upgraded database starts with an
empty table: ``flask seed --demo`` (idempotent) loads the demo city's places, ``flask places import FILE.csv``
a real city's.

Revision ID: 0630c3215fca
Revises: 87995d871f1c
Create Date: 2026-12-07 16:32:38.316143

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0630c3215fca"
down_revision = "87995d871f1c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "aliases", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_places_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["places.id"], name=op.f("fk_places_parent_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("department_id", "name", name="uq_places_department_id_name"),
    )


def downgrade():
    op.drop_table("places")
