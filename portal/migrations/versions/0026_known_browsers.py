"""known browsers: a sign-in from a browser the account never used is told to the person
(portal/accounts/browsers.py)

The table starts empty: after this upgrade, each person's first sign-in from each browser is
told once (docs/operator.md, "Notices by e-mail").

Revision ID: 0026_known_browsers
Revises: 0025_account_events
Create Date: 2026-12-02 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_known_browsers"
down_revision: str | None = "0025_account_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_browsers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "token_hash",
            sa.LargeBinary(),
            nullable=False,
            unique=True,
            comment="keyed hash of the account id and the cookie's token",
        ),
        sa.Column("device", sa.String(64), nullable=False, comment="browser and system, coarse"),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="its last sign-in: unused for 400 days, the row goes",
        ),
    )
    op.create_index("ix_known_browsers_account_id", "known_browsers", ["account_id"])
    op.create_index("ix_known_browsers_last_seen_at", "known_browsers", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_known_browsers_last_seen_at", "known_browsers")
    op.drop_index("ix_known_browsers_account_id", "known_browsers")
    op.drop_table("known_browsers")
