"""each person's dated list of what happened ("What happened lately" on every home), recorded
whether or not they have notices on: the kind and the time only

The notices queued before (for people who had notices on) become their first events, so the
list starts where the notices page's "Recent notices" left off, and an overdue referral already
told is not told again (notifications/services.queue_once now looks at events). Test notices
are not events.

Revision ID: 0025_account_events
Revises: 0024_second_factor
Create Date: 2026-12-02 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_account_events"
down_revision: str | None = "0024_second_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column(
            "subject_id",
            sa.String(36),
            nullable=True,
            comment="what an event the runner records is about (an overdue referral), so it is "
            "recorded (and told) once; never shown or sent",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_events_account", "account_events", ["account_id", "created_at"])
    op.create_index("ix_account_events_created", "account_events", ["created_at"])
    # A notice's id is unique, so it can be its event's id.
    op.execute(
        "INSERT INTO account_events (id, account_id, event, subject_id, created_at) "
        "SELECT id, account_id, event, subject_id, created_at FROM notices "
        "WHERE event <> 'test'"
    )


def downgrade() -> None:
    op.drop_index("ix_account_events_created", table_name="account_events")
    op.drop_index("ix_account_events_account", table_name="account_events")
    op.drop_table("account_events")
