"""case_counters: case numbers from the database

(placeholder written by the lead; the helper that owns it fills in upgrade/downgrade and this docstring)

Revision ID: 5a1c0e2f7b31
Revises: 0630c3215fca
Create Date: 2026-12-07 17:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "5a1c0e2f7b31"
down_revision = "0630c3215fca"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
