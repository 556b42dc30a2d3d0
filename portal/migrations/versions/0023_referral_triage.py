"""referral triage: each referral's state (received, more information asked, accepted,
declined) with its dates, reason and sealed notes, the facilitator it was accepted to with the
share of it boxed to them, and the case opened from it

Referrals received before this revision start as received.

Revision ID: 0023_referral_triage
Revises: 0022_notices
Create Date: 2026-12-02 07:50:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0023_referral_triage"
down_revision: str | None = "0022_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = "optional note for the other holders, sealed to the referral key"
# (table, column, the table its foreign key names, comment)
KEYED = [
    ("referrals", "triaged_by_id", "accounts", "who made the last triage move"),
    (
        "referrals",
        "assigned_facilitator_id",
        "accounts",
        "accepted: the facilitator who is to open its case",
    ),
    ("referrals", "share_sender_id", "accounts", None),
    (
        "cases",
        "referral_id",
        "referrals",
        "the accepted referral it was opened from; its path starts when that arrived",
    ),
]
# (column, type, comment), added to referrals
PLAIN: list[tuple[str, sa.types.TypeEngine[Any], str | None]] = [
    ("state_changed_at", sa.DateTime(timezone=True), "the last triage move"),
    ("more_info_asked_at", sa.DateTime(timezone=True), None),
    ("more_info_note", sa.LargeBinary(), SEALED),
    ("decline_reason", sa.String(length=32), None),
    ("decline_note", sa.LargeBinary(), SEALED),
    (
        "share",
        sa.LargeBinary(),
        "accepted: the referral boxed to the facilitator (a referral share)",
    ),
    (
        "share_sender_public_key",
        sa.LargeBinary(),
        "the box key the share was made with; the browser checks it in the trust log",
    ),
]


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # Not batch mode: on SQLite a new foreign key rebuilds the table, and dropping the old one
    # (with foreign keys on) would cascade to every row that names it (0010 says the same). So
    # on SQLite these columns are plain; PostgreSQL gets the foreign keys as constraints.
    op.add_column(
        "referrals",
        sa.Column("state", sa.String(length=32), nullable=False, server_default="received"),
    )
    for column, kind, comment in PLAIN:
        op.add_column("referrals", sa.Column(column, kind, comment=comment))
    for table, column, target, comment in KEYED:
        op.add_column(table, sa.Column(column, sa.String(length=36), comment=comment))
        if _on_postgresql():
            op.create_foreign_key(f"fk_{table}_{column}", table, target, [column], ["id"])
    op.create_index("ix_referrals_assigned", "referrals", ["assigned_facilitator_id"])
    op.create_index("ix_cases_referral_id", "cases", ["referral_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_cases_referral_id", table_name="cases")
    op.drop_index("ix_referrals_assigned", table_name="referrals")
    for table, column, _target, _comment in reversed(KEYED):
        if _on_postgresql():
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for column, _kind, _comment in reversed(PLAIN):
        op.execute(f"ALTER TABLE referrals DROP COLUMN {column}")
    op.execute("ALTER TABLE referrals DROP COLUMN state")
