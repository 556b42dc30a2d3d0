"""anonymous feedback after a case closes: offers answered or dismissed, and answers kept
without a case, a person or a time finer than the month (docs/security.md, "Feedback")

Revision ID: 0020_feedback
Revises: 0019_decline_told
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_feedback"
down_revision: str | None = "0019_decline_told"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_offers",
        sa.Column(
            "case_id",
            sa.String(36),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False, comment="YYYY-MM, never a finer time"),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("satisfied", sa.String(32), nullable=True, comment="satisfied with the process"),
        sa.Column("recommend", sa.String(32), nullable=True, comment="would recommend"),
        sa.Column(
            "better_able",
            sa.String(32),
            nullable=True,
            comment="feels safer or better able to move on",
        ),
        sa.Column(
            "key_id",
            sa.String(36),
            sa.ForeignKey("referral_keys.id"),
            nullable=True,
            comment="the referral key the free text is sealed to",
        ),
        sa.Column(
            "sealed_text",
            sa.LargeBinary(),
            nullable=True,
            comment="crypto_box_seal of {form: feedback, text} to the referral key, padded",
        ),
        # Rows in the order of their random ids, not of their arrival (SQLite only).
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("feedback_answers")
    op.drop_table("feedback_offers")
