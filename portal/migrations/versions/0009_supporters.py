"""supporters and representatives: a place on one participant's side of a case, what they may
do, when their access began, ends and was revoked; invitations name the place they are for

Revision ID: 0009_supporters
Revises: 0008_message_objects
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0009_supporters"
down_revision: str | None = "0008_message_objects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_supporters",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "case_id", sa.String(36), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "participant_id",
            sa.String(36),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("may_read", sa.Boolean(), nullable=False),
        sa.Column("may_write", sa.Boolean(), nullable=False),
        sa.Column("may_receive_notices", sa.Boolean(), nullable=False),
        sa.Column("display_name", sa.LargeBinary(), nullable=False),
        sa.Column("invited_by_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("joined_at", UTCDateTime()),
        sa.Column("ends_at", UTCDateTime()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoked_by_id", sa.String(36), sa.ForeignKey("accounts.id")),
        sa.Column("key_verified_at", UTCDateTime()),
        sa.Column("key_verified_by_id", sa.String(36), sa.ForeignKey("accounts.id")),
        sa.Column("verified_public_key", sa.LargeBinary()),
    )
    op.create_index(
        "ix_case_supporters_participant", "case_supporters", ["participant_id", "created_at"]
    )
    op.create_index("ix_case_supporters_case", "case_supporters", ["case_id"])
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(
            sa.Column(
                "supporter_id",
                sa.String(36),
                sa.ForeignKey(
                    "case_supporters.id",
                    name="fk_invitations_supporter",
                    ondelete="CASCADE",
                ),
            )
        )
        batch.create_index("ix_invitations_supporter_id", ["supporter_id"])


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_index("ix_invitations_supporter_id")
        batch.drop_constraint("fk_invitations_supporter", type_="foreignkey")
        batch.drop_column("supporter_id")
    op.drop_index("ix_case_supporters_case", table_name="case_supporters")
    op.drop_index("ix_case_supporters_participant", table_name="case_supporters")
    op.drop_table("case_supporters")
