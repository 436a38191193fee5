"""rating_tokens_challenges: hashed rating tokens and server-side portal challenges (issue 16, citizens)

- ``rating_invitations.nonce`` (the clear part of every link token: with the app secret it rebuilt the link)
  becomes ``token_hash``: hex SHA-256 of the whole token ``NONCE.MAC``. Rows are converted in place, so every
  link already sent keeps working; nothing left in the database can rebuild a link.
- ``portal_challenges``: the citizen form's arithmetic question, answer kept on the server under an opaque
  random id, with expiry and single use.

Downgrade cannot bring the clear nonces back: it restores the column with placeholders (old links stop working).

Revision ID: d24f5a6b7c84
Revises: c13e4f5a6b73
Create Date: 2026-12-07 20:00:00

"""

import base64
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "d24f5a6b7c84"
down_revision = "c13e4f5a6b73"
branch_labels = None
depends_on = None


def _token(secret: str, nonce: str) -> str:
    """The link token of a stored nonce, as hotline/ratings/tokens.py made it (copied: a migration is frozen)."""
    key = hashlib.sha256(b"rating-link:" + secret.encode()).digest()
    mac = base64.urlsafe_b64encode(hmac.new(key, nonce.encode(), hashlib.sha256).digest()[:16]).decode().rstrip("=")
    return f"{nonce}.{mac}"


def upgrade():
    with op.batch_alter_table("rating_invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))

    conn = op.get_bind()
    secret = current_app.config["SECRET_KEY"]
    table = sa.table("rating_invitations", sa.column("id", sa.Integer), sa.column("nonce"), sa.column("token_hash"))
    rows = conn.execute(sa.select(table.c.id, table.c.nonce)).all()
    for row_id, nonce in rows:
        digest = hashlib.sha256(_token(secret, nonce).encode()).hexdigest()
        conn.execute(sa.update(table).where(table.c.id == row_id).values(token_hash=digest))

    with op.batch_alter_table("rating_invitations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_rating_invitations_nonce", type_="unique")
        batch_op.drop_column("nonce")
        batch_op.alter_column("token_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_rating_invitations_token_hash"), ["token_hash"])

    op.create_table(
        "portal_challenges",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_challenges")),
    )
    with op.batch_alter_table("portal_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_challenges_expires_at"), ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("portal_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_challenges_expires_at"))
    op.drop_table("portal_challenges")

    with op.batch_alter_table("rating_invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nonce", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    table = sa.table("rating_invitations", sa.column("nonce"), sa.column("token_hash"))
    # the clear nonces are gone: unique placeholders that no link matches
    conn.execute(sa.update(table).values(nonce=sa.func.substr(table.c.token_hash, 1, 64)))
    with op.batch_alter_table("rating_invitations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_rating_invitations_token_hash", type_="unique")
        batch_op.drop_column("token_hash")
        batch_op.alter_column("nonce", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_rating_invitations_nonce"), ["nonce"])
