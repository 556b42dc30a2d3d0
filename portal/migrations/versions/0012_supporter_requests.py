"""a participant asking for a supporter or representative (closed when a facilitator invites
someone, talks it through, or the participant cancels)

Revision ID: 0012_supporter_requests
Revises: 0011_on_behalf
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0012_supporter_requests"
down_revision: str | None = "0011_on_behalf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supporter_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("may_read", sa.Boolean(), nullable=False),
        sa.Column("may_write", sa.Boolean(), nullable=False),
        sa.Column("may_receive_notices", sa.Boolean(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by_id", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_supporter_requests_participant",
        "supporter_requests",
        ["participant_id", "requested_at"],
    )
    op.create_index("ix_supporter_requests_case", "supporter_requests", ["case_id", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_supporter_requests_case", table_name="supporter_requests")
    op.drop_index("ix_supporter_requests_participant", table_name="supporter_requests")
    op.drop_table("supporter_requests")
