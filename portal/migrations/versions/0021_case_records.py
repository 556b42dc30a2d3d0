"""a case's records for its facilitators: risk assessments, case notes and agreement items,
their words sealed to the case key (ciphertext only)

Revision ID: 0021_case_records
Revises: 0020_feedback
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0021_case_records"
down_revision: str | None = "0020_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column(
            "answers",
            sa.LargeBinary(),
            nullable=False,
            comment="sealed to the case key (purpose risk-assessment:<id>)",
        ),
        sa.Column("assessed_by_id", sa.String(length=36), nullable=False),
        sa.Column("assessed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assessed_by_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_assessments_case", "risk_assessments", ["case_id", "assessed_at"])
    op.create_table(
        "case_notes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column(
            "text",
            sa.LargeBinary(),
            nullable=False,
            comment="sealed to the case key (purpose facilitator-note:<id>)",
        ),
        sa.Column("written_by_id", sa.String(length=36), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["written_by_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_notes_case", "case_notes", ["case_id", "written_at"])
    op.create_table(
        "agreement_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True, comment="none: not completed yet"),
        sa.Column(
            "description",
            sa.LargeBinary(),
            nullable=False,
            comment="sealed to the case key (purpose agreement-item:<id>)",
        ),
        sa.Column("added_by_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column(
            "removed_at",
            UTCDateTime(),
            nullable=True,
            comment="removed by a facilitator; its description is wiped then",
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agreement_items_case", "agreement_items", ["case_id", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_agreement_items_case", table_name="agreement_items")
    op.drop_table("agreement_items")
    op.drop_index("ix_case_notes_case", table_name="case_notes")
    op.drop_table("case_notes")
    op.drop_index("ix_risk_assessments_case", table_name="risk_assessments")
    op.drop_table("risk_assessments")
