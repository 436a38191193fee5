"""accounts: issue 17: city set-up, users, passwords, tokens, OIDC, TOTP

- ``users``: e-mail and phone; ``must_change_password`` (a one-time password from set-up, import or a reset must be
  replaced before anything else) and its ``password_expires_at``; ``demo_password`` (seed --demo's accounts until
  changed: production mode refuses to start while one has it — rows existing before this revision that share the
  demo seed's hash are marked here); the TOTP second factor (``totp_secret`` encrypted, ``totp_enabled_at``);
  ``oidc_subject`` of single sign-on.
- ``api_tokens``: a ``label`` and a ``hint`` (the first characters) to tell tokens apart on the tokens page.
- ``recovery_codes``: SHA-256 of each TOTP recovery code, used once.

Revision ID: 1b68d9eafbc8
Revises: 0a57c8d9eab7
Create Date: 2026-12-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1b68d9eafbc8"
down_revision = "0a57c8d9eab7"
branch_labels = None
depends_on = None

DEMO_PASSWORD = "hotline12345"  # noqa: S105 - hotline/seed/city.py, the public demo password


def _mark_demo_accounts() -> None:
    """seed --demo hashed the demo password once for all its accounts: each hash shared by several rows is checked
    once against the demo password (a handful of Argon2 checks, whatever the number of users)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    conn = op.get_bind()
    shared = conn.execute(
        sa.text("SELECT password_hash FROM users GROUP BY password_hash HAVING COUNT(*) > 1")
    ).scalars()
    hasher = PasswordHasher()
    for stored in list(shared):
        try:
            hasher.verify(stored, DEMO_PASSWORD)
        except (VerificationError, InvalidHashError):
            continue
        conn.execute(
            sa.text("UPDATE users SET demo_password = :yes WHERE password_hash = :stored"),
            {"yes": True, "stored": stored},
        )


def upgrade():
    # plain ADD COLUMNs with constant defaults and a unique index: SQLite alters the table in place (a batch
    # rebuild would DROP users, which every other table references, and fail on an existing database)
    for column in (
        sa.Column("email", sa.String(length=255), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=32), server_default="", nullable=False),
        sa.Column("must_change_password", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("password_expires_at", sa.DateTime(), nullable=True),
        sa.Column("demo_password", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("totp_secret", sa.String(length=255), nullable=True),
        sa.Column("totp_enabled_at", sa.DateTime(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("oidc_subject", sa.String(length=255), nullable=True),
    ):
        op.add_column("users", column)
    op.create_index("ix_users_oidc_subject", "users", ["oidc_subject"], unique=True)

    op.add_column("api_tokens", sa.Column("label", sa.String(length=64), server_default="", nullable=False))
    op.add_column("api_tokens", sa.Column("hint", sa.String(length=16), server_default="", nullable=False))

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    _mark_demo_accounts()


def downgrade():
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("hint")
        batch_op.drop_column("label")

    op.drop_index("ix_users_oidc_subject", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("demo_password")
        batch_op.drop_column("password_expires_at")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("phone")
        batch_op.drop_column("email")
