"""ix_participants_withdrawn holds only those who withdrew (a partial index): holding everyone,
SQLite (no statistics) found "not withdrawn" through its NULLs as if they were few, and the
facilitator's home started three of its parts from every participant of the service

Revision ID: 0031_withdrawn_index_partial
Revises: 0030_column_comments
Create Date: 2026-12-03 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_withdrawn_index_partial"
down_revision: str | None = "0030_column_comments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As portal/cases/models.py WITHDRAWN_PREDICATE states it, written out: a migration keeps the
# schema of its day, whatever the models become.
WITHDRAWN = "withdrawn_at IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_participants_withdrawn", table_name="participants")
    op.create_index(
        "ix_participants_withdrawn",
        "participants",
        ["withdrawn_at"],
        sqlite_where=sa.text(WITHDRAWN),
        postgresql_where=sa.text(WITHDRAWN),
    )


def downgrade() -> None:
    op.drop_index("ix_participants_withdrawn", table_name="participants")
    op.create_index("ix_participants_withdrawn", "participants", ["withdrawn_at"])
