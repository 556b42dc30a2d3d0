"""safe notices by e-mail: preferences (only while on) and the outbox

Revision ID: 0022_notices
Revises: 0021_case_records
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_notices"
down_revision: str | None = "0021_case_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_preferences",
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column(
            "email",
            sa.String(254),
            nullable=False,
            comment="personal data: kept only while notices are on; never logged",
        ),
        sa.Column("frequency", sa.String(32), nullable=False),
        sa.Column(
            "quiet_from_minute",
            sa.Integer(),
            nullable=True,
            comment="quiet hours start, minutes after midnight in the service's zone",
        ),
        sa.Column("quiet_to_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_sent_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="the last notice sent: a digest waits for the next local day",
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column(
            "subject_id",
            sa.String(36),
            nullable=True,
            comment="what a notice the runner queued is about (an overdue referral), so it is "
            "queued once; never shown or sent",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="not before: quiet hours, the daily digest or the backoff after a failure",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["notice_preferences.account_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notices_account_id", "notices", ["account_id"])
    op.create_index("ix_notices_unsent", "notices", ["sent_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notices_unsent", table_name="notices")
    op.drop_index("ix_notices_account_id", table_name="notices")
    op.drop_table("notices")
    op.drop_table("notice_preferences")
