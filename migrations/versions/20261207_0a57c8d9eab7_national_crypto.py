"""national_crypto: SM4/SM3 option for personal data at rest (issue 17, crypto)

Revision ID: 0a57c8d9eab7
Revises: f46b7c8d9ea6
Create Date: 2026-12-07 20:40:00

"""

# revision identifiers, used by Alembic.
revision = "0a57c8d9eab7"
down_revision = "f46b7c8d9ea6"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
