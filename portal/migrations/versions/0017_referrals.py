"""referrals: the service's referral key (public half and its signed statement), grants of its
secret half, facilitators designated to read referrals, and referrals as ciphertext with the
facts that route them

Revision ID: 0017_referrals
Revises: 0016_case_path
Create Date: 2026-12-02 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0017_referrals"
down_revision: str | None = "0016_case_path"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_keys",
        sa.Column(
            "id",
            sa.String(length=36),
            nullable=False,
            comment="the key id the statement and every seal bind",
        ),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column(
            "statement",
            sa.LargeBinary(),
            nullable=False,
            comment="canonical JSON bytes exactly as signed",
        ),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["signer_account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "referral_key_grants",
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("sender_account_id", sa.String(length=36), nullable=False),
        sa.Column(
            "sender_public_key",
            sa.LargeBinary(),
            nullable=False,
            comment="the box key the grant was made with; the browser checks it in the trust log",
        ),
        sa.Column("grant", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["referral_keys.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["sender_account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("key_id", "account_id"),
    )
    op.create_table(
        "referral_readers",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("designated_by_id", sa.String(length=36), nullable=False),
        sa.Column("designated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["designated_by_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column(
            "reference",
            sa.String(length=16),
            nullable=False,
            comment="R-XXXX-XXXX, random, told to the sender",
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column(
            "source",
            sa.String(length=32),
            nullable=False,
            comment="the referrer's kind of agency, or self",
        ),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column(
            "ciphertext",
            sa.LargeBinary(),
            nullable=False,
            comment="crypto_box_seal to the referral key, padded to a size bucket",
        ),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["referral_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_referrals_key", "referrals", ["key_id"])
    op.create_index("ix_referrals_received", "referrals", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_referrals_received", table_name="referrals")
    op.drop_index("ix_referrals_key", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("referral_readers")
    op.drop_table("referral_key_grants")
    op.drop_table("referral_keys")
