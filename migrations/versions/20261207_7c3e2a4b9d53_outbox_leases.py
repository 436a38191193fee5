"""outbox leases: claimed messages carry a lease

The relay (workers/jobs/outbox.py) claims a message (`status = 'sending'`, `lease_until`, `claimed_by`) and
commits before it calls the gateway; a message whose lease expired (its relay was killed) is claimed again.
`lease_until` is also the back-off of a pending message after a failed attempt. Existing rows get NULL / ''
(constant defaults: no table rewrite on PostgreSQL). `ix_outbox_open` indexes only the rows a relay may claim.

Revision ID: 7c3e2a4b9d53
Revises: 6b2d1f3a8c42
Create Date: 2026-12-07 17:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c3e2a4b9d53"
down_revision = "6b2d1f3a8c42"
branch_labels = None
depends_on = None

OPEN = "status IN ('pending', 'sending')"


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), server_default="", nullable=False))
        batch_op.create_index(
            "ix_outbox_open", ["id"], unique=False, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN)
        )


def downgrade():
    # a message claimed when the schema goes back is pending again (the old relay knows no `sending`)
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_open", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("lease_until")
