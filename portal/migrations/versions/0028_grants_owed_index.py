"""who may be owed grants again: a small partial index of the participants marked
(``participants.grants_owed_since``), so the facilitator's home and the queue find those few
without reading every participant of the facilitator's cases

Revision ID: 0028_grants_owed_index
Revises: 0027_grants_owed_marker
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_grants_owed_index"
down_revision: str | None = "0027_grants_owed_marker"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The condition as portal/cases/models.py GRANTS_OWED_PREDICATE states it, written out: a
# migration keeps the schema of its day, whatever the models become.
GRANTS_OWED = "grants_owed_since IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_participants_grants_owed",
        "participants",
        ["case_id"],
        sqlite_where=sa.text(GRANTS_OWED),
        postgresql_where=sa.text(GRANTS_OWED),
    )


def downgrade() -> None:
    op.drop_index("ix_participants_grants_owed", table_name="participants")
