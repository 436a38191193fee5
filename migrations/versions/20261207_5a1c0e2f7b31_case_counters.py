"""case_counters: case numbers from the database

case_counters: one row per (prefix, day) — the last case number handed out that day. Case numbers
(GD20261122-000123) were taken from a Redis counter; they are now taken from this row in the registering
transaction (hotline/cases/numbers.py), so a Redis that is down, or restored from an older snapshot, can never
hand out a number twice. The upgrade seeds one row per day that already has cases, with its highest number,
so an upgraded database continues after it (SQLite uses the counters). PostgreSQL takes numbers from the
sequence case_number_seq minus the day's base in case_number_bases (no row locked until the commit); a day's
base is fixed by its first registration and continues after the cases already stored that day.

Revision ID: 5a1c0e2f7b31
Revises: 0630c3215fca
Create Date: 2026-12-07 17:15:00

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5a1c0e2f7b31"
down_revision = "0630c3215fca"
branch_labels = None
depends_on = None

NUMBER = re.compile(r"^([A-Z]{1,8})(\d{8})-(\d+)$")


def upgrade():
    counters = op.create_table(
        "case_counters",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "day", name=op.f("pk_case_counters")),
    )
    highest: dict[tuple[str, str], int] = {}
    # streamed (a server-side cursor on PostgreSQL): an upgraded database may hold millions of cases; the option
    # goes on the statement, not the connection, which runs Alembic's own statements after this one
    numbers = sa.text("SELECT number FROM cases").execution_options(stream_results=True, yield_per=10000)
    result = op.get_bind().execute(numbers)
    for (number,) in result:
        match = NUMBER.match(number or "")
        if match:
            key, seq = (match.group(1), match.group(2)), int(match.group(3))
            if seq > highest.get(key, 0):
                highest[key] = seq
    if highest:
        op.bulk_insert(counters, [{"prefix": p, "day": d, "value": v} for (p, d), v in sorted(highest.items())])
    op.create_table(
        "case_number_bases",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("first", sa.BigInteger(), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "day", name=op.f("pk_case_number_bases")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("case_number_seq")))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("case_number_seq")))
    op.drop_table("case_number_bases")
    op.drop_table("case_counters")
