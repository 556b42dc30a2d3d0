"""a declined message's writer hears of it from a facilitator first: when one recorded telling
them (their pages say it waits until then)

Messages declined before this revision count as told: their writers' pages said so already.

Revision ID: 0019_decline_told
Revises: 0018_entered2
Create Date: 2026-12-02 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_decline_told"
down_revision: str | None = "0018_entered2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "decline_told_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="declined: when a facilitator recorded telling its writer; none: not yet",
        ),
    )
    op.execute("UPDATE messages SET decline_told_at = state_changed_at WHERE state = 'declined'")


def downgrade() -> None:
    op.execute("ALTER TABLE messages DROP COLUMN decline_told_at")
