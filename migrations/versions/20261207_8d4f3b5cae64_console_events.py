"""console_events: the durable, ordered log of console events

(placeholder written by the lead; the helper that owns it fills in upgrade/downgrade and this docstring)

Revision ID: 8d4f3b5cae64
Revises: 7c3e2a4b9d53
Create Date: 2026-12-07 17:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "8d4f3b5cae64"
down_revision = "7c3e2a4b9d53"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
