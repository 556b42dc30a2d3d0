"""trust anchors: signing keys, the trust log and the service root, signed case key epochs,
invitations made in the inviter's browser

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "signing_public_key",
                sa.LargeBinary(),
                nullable=True,
                comment="Ed25519, derived in the browser from the identity key; NULL until the "
                "account's browser registers it (accounts made before trust anchors)",
            )
        )
    op.create_table(
        "trust_log",
        sa.Column(
            "position",
            sa.Integer(),
            autoincrement=False,
            nullable=False,
            comment="0, 1, 2...: the entry's index in the hash chain the browsers recompute",
        ),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="staff-cert, revocation or root-handover (the statement's own context)",
        ),
        sa.Column("signer_account_id", sa.String(length=36), nullable=False),
        sa.Column("signer_signing_public_key", sa.LargeBinary(), nullable=False),
        sa.Column(
            "statement",
            sa.LargeBinary(),
            nullable=False,
            comment="canonical JSON bytes exactly as signed",
        ),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column(
            "subject_account_id",
            sa.String(length=36),
            nullable=False,
            comment="the account certified or revoked, or the new root",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["signer_account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["subject_account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("position"),
        sa.CheckConstraint("position >= 0", name="ck_trust_log_position"),
    )
    with op.batch_alter_table("trust_log", schema=None) as batch_op:
        batch_op.create_index("ix_trust_log_subject", ["subject_account_id", "kind"])
    op.create_table(
        "service_root",
        sa.Column(
            "id",
            sa.Integer(),
            autoincrement=False,
            nullable=False,
            comment="always 1: there is one root",
        ),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("signing_public_key", sa.LargeBinary(), nullable=False),
        sa.Column(
            "log_position",
            sa.Integer(),
            nullable=False,
            comment="the trust log entry that made this account the root (0: its own cert)",
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["log_position"], ["trust_log.position"]),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("id = 1", name="ck_service_root_one_row"),
    )
    op.create_table(
        "case_key_epochs",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column(
            "statement",
            sa.LargeBinary(),
            nullable=False,
            comment="the case-key statement (canonical JSON) exactly as signed",
        ),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["signer_account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("case_id", "epoch"),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.alter_column(
            "code_hash",
            existing_type=sa.LargeBinary(),
            nullable=True,
            comment="server-made codes (setup links, older invitations); NULL for browser-made",
        )
        batch_op.add_column(
            sa.Column(
                "lookup_id",
                sa.String(length=32),
                nullable=True,
                comment="browser-made code: first 16 bytes of H(lookup, code) as hex",
            )
        )
        batch_op.add_column(
            sa.Column(
                "redeem_proof_hash",
                sa.LargeBinary(),
                nullable=True,
                comment="H(redeem-hash, redeem proof): checks a redemption, cannot make one",
            )
        )
        batch_op.add_column(
            sa.Column(
                "mac",
                sa.LargeBinary(),
                nullable=True,
                comment="the inviter's MAC over the invitation under a key from the code",
            )
        )
        batch_op.add_column(sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("inviter_box_public_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("inviter_signing_public_key", sa.LargeBinary(), nullable=True)
        )
        batch_op.add_column(sa.Column("root_account_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("root_signing_public_key", sa.LargeBinary(), nullable=True))
        batch_op.create_unique_constraint("uq_invitations_lookup_id", ["lookup_id"])
        batch_op.create_unique_constraint("uq_invitations_redeem_proof_hash", ["redeem_proof_hash"])
    # Security events are audit rows tagged security:<kind>; home pages list the newest.
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_tag", ["tag", "id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_tag")
    # Browser-made invitations have no code hash, which the older schema requires: they go.
    op.execute("DELETE FROM invitations WHERE code_hash IS NULL")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_invitations_redeem_proof_hash", type_="unique")
        batch_op.drop_constraint("uq_invitations_lookup_id", type_="unique")
        batch_op.drop_column("root_signing_public_key")
        batch_op.drop_column("root_account_id")
        batch_op.drop_column("inviter_signing_public_key")
        batch_op.drop_column("inviter_box_public_key")
        batch_op.drop_column("sealed_at")
        batch_op.drop_column("mac")
        batch_op.drop_column("redeem_proof_hash")
        batch_op.drop_column("lookup_id")
        batch_op.alter_column(
            "code_hash", existing_type=sa.LargeBinary(), nullable=False, comment=None
        )
    op.drop_table("case_key_epochs")
    op.drop_table("service_root")
    op.drop_table("trust_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("signing_public_key")
