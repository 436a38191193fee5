"""wechat_cti_replay: WeChat/CTI replay guard and welcome-once (issue 16, channels)

Three new tables, nothing existing changes: ``replay_guards`` (one use of a signed WeChat request within its
signature window), ``wechat_followers`` (the welcome is sent once per openid), ``wechat_locations`` (location
messages, attached to the citizen's next case).

Revision ID: af1c2d3e4b51
Revises: 9e5a4c6dbf75
Create Date: 2026-12-07 20:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "af1c2d3e4b51"
down_revision = "9e5a4c6dbf75"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "replay_guards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replay_guards")),
        sa.UniqueConstraint("scope", "key", name="uq_replay_guards_scope_key"),
    )
    op.create_index("ix_replay_guards_expires_at", "replay_guards", ["expires_at"], unique=False)
    op.create_table(
        "wechat_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid_hash", sa.String(length=64), nullable=False),
        sa.Column("subscriptions", sa.Integer(), nullable=False),
        sa.Column("first_subscribed_at", sa.DateTime(), nullable=False),
        sa.Column("last_subscribed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_followers")),
        sa.UniqueConstraint("openid_hash", name=op.f("uq_wechat_followers_openid_hash")),
    )
    op.create_table(
        "wechat_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid_hash", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_wechat_locations_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_locations")),
    )
    op.create_index(op.f("ix_wechat_locations_case_id"), "wechat_locations", ["case_id"], unique=False)
    op.create_index(op.f("ix_wechat_locations_openid_hash"), "wechat_locations", ["openid_hash"], unique=False)
    op.create_index(op.f("ix_wechat_locations_received_at"), "wechat_locations", ["received_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_wechat_locations_received_at"), table_name="wechat_locations")
    op.drop_index(op.f("ix_wechat_locations_openid_hash"), table_name="wechat_locations")
    op.drop_index(op.f("ix_wechat_locations_case_id"), table_name="wechat_locations")
    op.drop_table("wechat_locations")
    op.drop_table("wechat_followers")
    op.drop_index("ix_replay_guards_expires_at", table_name="replay_guards")
    op.drop_table("replay_guards")
