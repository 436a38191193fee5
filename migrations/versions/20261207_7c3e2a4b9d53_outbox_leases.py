"""outbox leases: claimed messages carry a lease

(placeholder written by the lead; the helper that owns it fills in upgrade/downgrade and this docstring)

Revision ID: 7c3e2a4b9d53
Revises: 6b2d1f3a8c42
Create Date: 2026-12-07 17:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "7c3e2a4b9d53"
down_revision = "6b2d1f3a8c42"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
