"""entered for a participant without access, continued: when a letter released on paper to
its recipient was last printed (until then it is a "to print" task)

Revision ID: 0018_entered2
Revises: 0017_referrals
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_entered2"
down_revision: str | None = "0017_referrals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "printed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="last printed for its recipient, who has no access",
        ),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE messages DROP COLUMN printed_at")
