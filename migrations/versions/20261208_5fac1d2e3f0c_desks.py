"""desks: issue 20: notifications read, search index, notes, templates, review

Revision ID: 5fac1d2e3f0c
Revises: 4e9b0c1d2efb
Create Date: 2026-12-08 00:00:00

- indexes on ``cases.merged_into_id``, ``citizens.merged_into_id`` (the case page asks for a case's merged
  cases and a citizen file's merged files on every view) and ``cases.phone_id`` (search by phone);
- ``case_search_terms``: each case's search terms (character bigrams, hotline/search/terms.py), indexed by an
  external-content FTS5 table on SQLite (triggers keep it in sync) and a GIN tsvector index on PostgreSQL;
- ``saved_filters``: a staff member's named searches;
- ``case_notes``: internal notes with @mentions.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5fac1d2e3f0c"
down_revision = "4e9b0c1d2efb"
branch_labels = None
depends_on = None

FTS_TRIGGERS = {
    "case_search_terms_ai": "AFTER INSERT ON case_search_terms BEGIN "
    "INSERT INTO case_search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
    "case_search_terms_ad": "AFTER DELETE ON case_search_terms BEGIN "
    "INSERT INTO case_search_fts(case_search_fts, rowid, terms) VALUES ('delete', old.case_id, old.terms); END",
    "case_search_terms_au": "AFTER UPDATE ON case_search_terms BEGIN "
    "INSERT INTO case_search_fts(case_search_fts, rowid, terms) VALUES ('delete', old.case_id, old.terms); "
    "INSERT INTO case_search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
}


def upgrade():
    op.create_index("ix_cases_merged_into_id", "cases", ["merged_into_id"])
    op.create_index("ix_citizens_merged_into_id", "citizens", ["merged_into_id"])
    op.create_index("ix_cases_phone_id", "cases", ["phone_id"])

    op.create_table(
        "case_search_terms",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("terms", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE case_search_fts USING fts5(terms, content='case_search_terms', "
            "content_rowid='case_id', tokenize='unicode61')"
        )
        for name, body in FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        # stored, so a phrase query's recheck reads the tsvector instead of parsing the terms again per row
        op.execute(
            "ALTER TABLE case_search_terms ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED"
        )
        op.execute("CREATE INDEX ix_case_search_terms_tsv ON case_search_terms USING gin (tsv)")

    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("query", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),
    )
    op.create_index("ix_saved_filters_user_id", "saved_filters", ["user_id"])

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mentions", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_case_notes_case_id", "case_notes", ["case_id"])


def downgrade():
    op.drop_index("ix_case_notes_case_id", table_name="case_notes")
    op.drop_table("case_notes")
    op.drop_index("ix_saved_filters_user_id", table_name="saved_filters")
    op.drop_table("saved_filters")
    if op.get_bind().dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search_fts")
    op.drop_table("case_search_terms")
    op.drop_index("ix_cases_phone_id", table_name="cases")
    op.drop_index("ix_citizens_merged_into_id", table_name="citizens")
    op.drop_index("ix_cases_merged_into_id", table_name="cases")
