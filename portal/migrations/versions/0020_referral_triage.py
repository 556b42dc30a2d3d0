"""referral triage: each referral's state (received, more information asked, accepted,
declined) with its dates, reason and sealed notes, the facilitator it was accepted to with the
share of it boxed to them, and the case opened from it

Referrals received before this revision start as received.

Revision ID: 0020_referral_triage
Revises: 0019_decline_told
Create Date: 2026-12-02 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_referral_triage"
down_revision: str | None = "0019_decline_told"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = "optional note for the other holders, sealed to the referral key"


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(
            sa.Column("state", sa.String(32), nullable=False, server_default="received")
        )
        batch.add_column(
            sa.Column(
                "state_changed_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="the last triage move",
            )
        )
        batch.add_column(
            sa.Column(
                "triaged_by_id",
                sa.String(36),
                sa.ForeignKey("accounts.id", name="fk_referrals_triaged_by"),
                nullable=True,
                comment="who made the last triage move",
            )
        )
        batch.add_column(sa.Column("more_info_asked_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("more_info_note", sa.LargeBinary(), comment=SEALED))
        batch.add_column(sa.Column("decline_reason", sa.String(32)))
        batch.add_column(sa.Column("decline_note", sa.LargeBinary(), comment=SEALED))
        batch.add_column(
            sa.Column(
                "assigned_facilitator_id",
                sa.String(36),
                sa.ForeignKey("accounts.id", name="fk_referrals_assigned_facilitator"),
                comment="accepted: the facilitator who is to open its case",
            )
        )
        batch.add_column(
            sa.Column(
                "share",
                sa.LargeBinary(),
                comment="accepted: the referral boxed to the facilitator (a referral share)",
            )
        )
        batch.add_column(
            sa.Column(
                "share_sender_id",
                sa.String(36),
                sa.ForeignKey("accounts.id", name="fk_referrals_share_sender"),
            )
        )
        batch.add_column(
            sa.Column(
                "share_sender_public_key",
                sa.LargeBinary(),
                comment="the box key the share was made with; the browser checks it in the "
                "trust log",
            )
        )
        batch.create_index("ix_referrals_assigned", ["assigned_facilitator_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column(
                "referral_id",
                sa.String(36),
                sa.ForeignKey("referrals.id", name="fk_cases_referral"),
                comment="the accepted referral it was opened from; its path starts when that "
                "arrived",
            )
        )
        batch.create_unique_constraint("uq_cases_referral_id", ["referral_id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_referral_id", type_="unique")
        batch.drop_constraint("fk_cases_referral", type_="foreignkey")
        batch.drop_column("referral_id")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index("ix_referrals_assigned")
        for name in (
            "fk_referrals_triaged_by",
            "fk_referrals_assigned_facilitator",
            "fk_referrals_share_sender",
        ):
            batch.drop_constraint(name, type_="foreignkey")
        for column in (
            "share_sender_public_key",
            "share_sender_id",
            "share",
            "assigned_facilitator_id",
            "decline_note",
            "decline_reason",
            "more_info_note",
            "more_info_asked_at",
            "triaged_by_id",
            "state_changed_at",
            "state",
        ):
            batch.drop_column(column)
