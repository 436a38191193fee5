"""sla cards without the assignment foreign key

sla_cards.assignment_id is no longer a foreign key (case_id and department_id stopped being ones in 9045d7ed53f1):
the sweeper inserts a card only in the statement that reads it from its assignment, assignments are never
deleted, and the FK check (a trigger call plus a row lock on the assignment, WAL and a dirty page each) was about
a fifth of PostgreSQL's CPU in a sweep of 10,000 cards.

Revision ID: dcfb61576bed
Revises: 3c1d9e7a5b20
Create Date: 2026-12-05 10:03:00.085225

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "dcfb61576bed"
down_revision = "3c1d9e7a5b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sla_cards", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sla_cards_assignment_id_assignments"), type_="foreignkey")


def downgrade():
    with op.batch_alter_table("sla_cards", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_sla_cards_assignment_id_assignments"), "assignments", ["assignment_id"], ["id"]
        )
