"""case key epochs after a facilitator leaves: when a case began waiting for its next key epoch
(a facilitator was removed; a remaining facilitator's browser makes it), and each epoch's grant
of the previous epoch's secret key to its own key (so whoever holds an epoch reads what came
before it)

Revision ID: 0015_epochs
Revises: 0014_entered
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_epochs"
down_revision: str | None = "0014_entered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "key_change_since",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="a facilitator left at this time; nothing is sealed until the next epoch",
        ),
    )
    op.add_column(
        "case_key_epochs",
        sa.Column(
            "previous_grant",
            sa.LargeBinary(),
            nullable=True,
            comment="the previous epoch's secret key boxed to this epoch's key; none: unreadable",
        ),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE case_key_epochs DROP COLUMN previous_grant")
    op.execute("ALTER TABLE cases DROP COLUMN key_change_since")
