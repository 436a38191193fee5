"""accounts_hardening: login lockout, login audit, session generation (issue 16, accounts)

- ``users.session_generation``: the sessions that still count; logout and a password change add one, so a copied
  cookie stops working (hotline/auth/sessions.py). Sessions opened before this revision carry none: they count as
  generation 0, so the user's first logout or password change ends them too.
- ``login_throttle``: consecutive failed logins per account name and the lock's end (hotline/auth/lockout.py).
- ``login_events``: one row per login success/failure/lock, logout and password change (hotline/auth/audit.py).

Revision ID: c13e4f5a6b73
Revises: b02d3e4f5a62
Create Date: 2026-12-07 20:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c13e4f5a6b73"
down_revision = "b02d3e4f5a62"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))

    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttle_last_failure_at"), ["last_failure_at"], unique=False)

    op.create_table(
        "login_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_login_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
    )
    with op.batch_alter_table("login_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_events_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_login_events_username_at", ["username", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("login_events", schema=None) as batch_op:
        batch_op.drop_index("ix_login_events_username_at")
        batch_op.drop_index(batch_op.f("ix_login_events_user_id"))
        batch_op.drop_index(batch_op.f("ix_login_events_at"))
    op.drop_table("login_events")

    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failure_at"))
    op.drop_table("login_throttle")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
