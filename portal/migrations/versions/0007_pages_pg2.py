"""pages at full size on PostgreSQL: small partial indexes of what waits for review and of who
waits for their case key, so the facilitator's home and the review queue read a few rows, not
every message's index entries or every participant

Revision ID: 0007_pages_pg2
Revises: 0006_pages_indexes
Create Date: 2026-12-01 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_pages_pg2"
down_revision: str | None = "0006_pages_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The conditions as the models state them (portal/messages/models.py WAITING_PREDICATE,
# portal/cases/models.py AWAITING_KEY_PREDICATE), written out: a migration keeps the schema of
# its day, whatever the models become.
WAITING = "state IN ('in_review', 'submitted')"
AWAITING_KEY = "account_id IS NOT NULL AND withdrawn_at IS NULL AND case_public_grant IS NULL"

# (table, index name, columns, condition)
INDEXES = [
    ("messages", "ix_messages_waiting", ["case_id", "submitted_at", "id"], WAITING),
    ("participants", "ix_participants_awaiting_key", ["case_id", "joined_at"], AWAITING_KEY),
]


def upgrade() -> None:
    for table, name, columns, where in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for table, name, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
