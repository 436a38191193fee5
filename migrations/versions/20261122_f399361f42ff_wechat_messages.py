"""wechat_messages: one row per inbound WeChat MsgId (dedupe of WeChat's retries)

WeChat identities of citizens need no table of their own: they are rows of citizen_phones with
kind = 'wechat' (blind index of "wechat:OPENID", the openid encrypted), so a case keeps its phone_id.

Revision ID: f399361f42ff
Revises: 6f4259605902
Create Date: 2026-11-22 05:57:05.085580

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f399361f42ff"
down_revision = "6f4259605902"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wechat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("openid_hash", sa.String(length=64), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_wechat_messages_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_messages")),
        sa.UniqueConstraint("msg_id", name=op.f("uq_wechat_messages_msg_id")),
    )
    with op.batch_alter_table("wechat_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_messages_openid_hash"), ["openid_hash"], unique=False)


def downgrade():
    with op.batch_alter_table("wechat_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_messages_openid_hash"))

    op.drop_table("wechat_messages")
