"""cases, participants, content, messages, vaults

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:39:23.952104
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column(
            "reference",
            sa.String(length=40),
            nullable=False,
            comment="the service's own case reference; never a name",
        ),
        sa.Column(
            "label", sa.String(length=80), nullable=False, comment="short and non-identifying"
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "public_key",
            sa.LargeBinary(),
            nullable=False,
            comment="case X25519 public key, current epoch",
        ),
        sa.Column("key_epoch", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_table(
        "vaults",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "case_facilitators",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "account_id"),
    )
    op.create_table(
        "case_key_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.String(length=36), nullable=False),
        sa.Column("sender_id", sa.String(length=36), nullable=False),
        sa.Column("grant", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "epoch", "recipient_id"),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column(
            "display_name",
            sa.LargeBinary(),
            nullable=False,
            comment="sealed to the case key by a facilitator",
        ),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column(
            "formats",
            sa.String(length=40),
            nullable=False,
            comment="accepted formats, comma separated",
        ),
        sa.Column("consent_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_recorded_by_id", sa.String(length=36), nullable=True),
        sa.Column(
            "case_public_grant",
            sa.LargeBinary(),
            nullable=True,
            comment="the case public key, boxed from a facilitator to this participant",
        ),
        sa.Column("case_public_grant_sender_id", sa.String(length=36), nullable=True),
        sa.Column("key_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("key_verified_by_id", sa.String(length=36), nullable=True),
        sa.Column(
            "verified_public_key",
            sa.LargeBinary(),
            nullable=True,
            comment="the key compared in person; a different current key means it changed",
        ),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["case_public_grant_sender_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["consent_recorded_by_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["key_verified_by_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "account_id"),
    )
    op.create_table(
        "content_objects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column(
            "entered_for_id",
            sa.String(length=36),
            nullable=True,
            comment="set when a facilitator entered it on a participant's behalf",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["entered_for_id"],
            ["participants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "content_versions",
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=False),
        sa.Column("manifest_hash", sa.LargeBinary(), nullable=False),
        sa.Column(
            "ciphertext_size",
            sa.Integer(),
            nullable=False,
            comment="bytes of all chunks; no plaintext size",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["object_id"], ["content_objects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("object_id", "version"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("author_participant_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_participant_id", sa.String(length=36), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column(
            "version", sa.Integer(), nullable=False, comment="the version under review or released"
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by_id", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.String(length=36), nullable=True),
        sa.Column("content_note_object_id", sa.String(length=36), nullable=True),
        sa.Column("feedback_object_id", sa.String(length=36), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author_may_see_opened", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_participant_id"],
            ["participants.id"],
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["content_note_object_id"],
            ["content_objects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["feedback_object_id"],
            ["content_objects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["content_objects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recipient_participant_id"],
            ["participants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_queue", ["case_id", "state", "submitted_at"], unique=False
        )

    op.create_table(
        "content_chunks",
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id", "version"],
            ["content_versions.object_id", "content_versions.version"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "version", "part", "index"),
    )
    op.create_table(
        "content_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_account_id", sa.String(length=36), nullable=True),
        sa.Column("recipient_case_epoch", sa.Integer(), nullable=True),
        sa.Column("grant", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id", "version"],
            ["content_versions.object_id", "content_versions.version"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("content_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_content_grants_object", ["object_id", "version", "purpose"], unique=False
        )

    op.create_table(
        "drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("revises_message_id", sa.String(length=36), nullable=True),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["revises_message_id"],
            ["messages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "message_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "participant_id",
                sa.String(length=36),
                nullable=True,
                comment="the case participant this invitation is for",
            )
        )
        batch_op.create_foreign_key(
            "fk_invitations_participant_id",
            "participants",
            ["participant_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("fk_invitations_participant_id", type_="foreignkey")
        batch_op.drop_column("participant_id")

    op.drop_table("message_events")
    op.drop_table("drafts")
    with op.batch_alter_table("content_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_content_grants_object")

    op.drop_table("content_grants")
    op.drop_table("content_chunks")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_queue")

    op.drop_table("messages")
    op.drop_table("content_versions")
    op.drop_table("content_objects")
    op.drop_table("participants")
    op.drop_table("case_key_grants")
    op.drop_table("case_facilitators")
    op.drop_table("vaults")
    op.drop_table("cases")
