"""the case's path: the stage each case is at, each dated move along it, and why it closed

Existing cases start as referred on the day they were opened, and closed ones reach "closed" on
the day they closed, with no reason (none was asked for then). The backfilled moves were
recorded by the portal (no account).

Revision ID: 0016_case_path
Revises: 0015_epochs
Create Date: 2026-12-02 05:00:00.000000
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0016_case_path"
down_revision: str | None = "0015_epochs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("stage", sa.String(length=32), nullable=False, server_default="referred"),
    )
    op.add_column(
        "cases",
        sa.Column(
            "closing_reason",
            sa.String(length=32),
            nullable=True,
            comment="why it closed; none: open, or closed before reasons",
        ),
    )
    moves = op.create_table(
        "case_stage_moves",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column(
            "recorded_by_id",
            sa.String(length=36),
            nullable=True,
            comment="none: recorded by the portal (cases before stages)",
        ),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_stage_moves_case", "case_stage_moves", ["case_id", "recorded_at"])
    bind = op.get_bind()
    cases = sa.table(
        "cases",
        sa.column("id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("stage", sa.String()),
        sa.column("created_at", UTCDateTime()),
        sa.column("status_changed_at", UTCDateTime()),
    )
    rows = bind.execute(
        sa.select(cases.c.id, cases.c.status, cases.c.created_at, cases.c.status_changed_at)
    ).all()
    backfill = []
    for case_id, status, created_at, closed_at in rows:
        backfill.append(_move(case_id, "referred", created_at))
        if status == "closed":
            backfill.append(_move(case_id, "closed", closed_at))
    for start in range(0, len(backfill), 1000):
        op.bulk_insert(moves, backfill[start : start + 1000])
    bind.execute(cases.update().where(cases.c.status == "closed").values(stage="closed"))


def _move(case_id: str, stage: str, at: datetime) -> dict[str, object]:
    # A calendar day from a UTC time: the service's zone is a setting this migration cannot see.
    return {
        "id": str(uuid.uuid4()),
        "case_id": case_id,
        "stage": stage,
        "reached_on": at.date(),
        "recorded_by_id": None,
        "recorded_at": at,
    }


def downgrade() -> None:
    op.drop_index("ix_case_stage_moves_case", table_name="case_stage_moves")
    op.drop_table("case_stage_moves")
    op.execute("ALTER TABLE cases DROP COLUMN closing_reason")
    op.execute("ALTER TABLE cases DROP COLUMN stage")
