"""maintenance leases: one process runs each periodic job at a time, once per period

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_leases",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column(
            "holder",
            sa.String(length=64),
            nullable=True,
            comment="the process running the job now (host:pid:random); NULL when nobody is",
        ),
        sa.Column(
            "leased_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="the holder's claim lapses then unless renewed (a crashed holder's does)",
        ),
        sa.Column(
            "last_finished_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="the end of the last run, successful or not; the next is due a period later",
        ),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("maintenance_leases")
