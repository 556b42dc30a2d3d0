"""the facilitator's home kept as rows, with a count of changes for each account
(``home_heads``, ``home_rows``: portal/homes)

Revision ID: 0033_home_kept
Revises: 0032_messages_written_for
Create Date: 2026-12-03 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0033_home_kept"
down_revision: str | None = "0032_messages_written_for"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty at first: every home is read from the cases once, then kept.
    op.create_table(
        "home_heads",
        sa.Column("account_id", sa.String(36), primary_key=True),
        sa.Column(
            "changes",
            sa.Integer(),
            nullable=False,
            comment="committed changes that could alter this account's home",
        ),
        sa.Column(
            "kept_at_changes",
            sa.Integer(),
            nullable=True,
            comment="the count home_rows were read at (NULL: none kept)",
        ),
        sa.Column(
            "kept_for",
            sa.String(16),
            nullable=True,
            comment="the home statement's fingerprint the rows were read with",
        ),
        sa.Column(
            "kept_until",
            UTCDateTime(),
            nullable=True,
            comment="when the kept rows stop holding without a change (a day ends, a "
            "supporter's access ends)",
        ),
    )
    op.create_table(
        "home_rows",
        sa.Column("account_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("home_rows")
    op.drop_table("home_heads")
