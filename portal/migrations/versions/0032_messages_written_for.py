"""what was written on a participant's behalf, by its author: a small partial index
(``ix_messages_written_for``), so the facilitator's home finds it without reading everything
each participant of the facilitator's cases wrote

Revision ID: 0032_messages_written_for
Revises: 0031_withdrawn_index_partial
Create Date: 2026-12-03 19:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_messages_written_for"
down_revision: str | None = "0031_withdrawn_index_partial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As portal/messages/models.py WRITTEN_FOR_PREDICATE states it, written out: a migration keeps
# the schema of its day, whatever the models become.
WRITTEN_FOR = "written_by_supporter_id IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_messages_written_for",
        "messages",
        ["author_participant_id"],
        sqlite_where=sa.text(WRITTEN_FOR),
        postgresql_where=sa.text(WRITTEN_FOR),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_written_for", table_name="messages")
