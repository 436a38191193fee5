"""idempotency keys; one assignment per case, unit and role

(placeholder written by the lead; the helper that owns it fills in upgrade/downgrade and this docstring)

Revision ID: 6b2d1f3a8c42
Revises: 5a1c0e2f7b31
Create Date: 2026-12-07 17:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "6b2d1f3a8c42"
down_revision = "5a1c0e2f7b31"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
