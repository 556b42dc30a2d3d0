"""media: uploads, held chunks, chunks in the blob store, message length and transcripts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column(
            "declared_bytes",
            sa.BigInteger(),
            nullable=False,
            comment="ciphertext bytes the browser said it will upload; counts to quotas",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="last activity; expiry counts from here",
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["object_id"], ["content_objects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("object_id", "version"),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index("ix_uploads_case_id", ["case_id"], unique=False)
    op.create_table(
        "upload_chunks",
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "hash", sa.LargeBinary(), nullable=False, comment="protocol chunk_hash of the bytes"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id", "version"],
            ["uploads.object_id", "uploads.version"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "version", "part", "index"),
    )
    with op.batch_alter_table("content_chunks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "size",
                sa.Integer(),
                nullable=True,
                comment="ciphertext bytes, nonce and tag included",
            )
        )
        batch_op.add_column(
            sa.Column(
                "hash",
                sa.LargeBinary(),
                nullable=True,
                comment="protocol chunk_hash; NULL only for inline rows from before 0003",
            )
        )
    # Every chunk so far is inline: its size is the length of its data (bytes on both backends).
    op.execute("UPDATE content_chunks SET size = length(data)")
    with op.batch_alter_table("content_chunks", schema=None) as batch_op:
        batch_op.alter_column("size", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "data",
            existing_type=sa.LargeBinary(),
            nullable=True,
            comment="inline ciphertext; NULL when the chunk lives in the blob store",
        )
    with op.batch_alter_table("content_versions", schema=None) as batch_op:
        # A 1 GiB message is near the top of a 32-bit integer; an operator may allow more.
        batch_op.alter_column(
            "ciphertext_size",
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
            existing_comment="bytes of all chunks; no plaintext size",
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "media_seconds",
                sa.Integer(),
                nullable=True,
                comment="declared length of recordings",
            )
        )
        batch_op.add_column(
            sa.Column(
                "page_count",
                sa.Integer(),
                nullable=True,
                comment="declared number of scanned pages",
            )
        )
        batch_op.add_column(sa.Column("transcript_object_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("transcript_label", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "content_deleted_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="the author deleted every version's content; the timeline stays",
            )
        )
        batch_op.create_foreign_key(
            "fk_messages_transcript_object_id",
            "content_objects",
            ["transcript_object_id"],
            ["id"],
        )


def downgrade() -> None:
    # Before 0003 every chunk is inline: media in the blob store cannot be represented, so a
    # downgrade refuses rather than silently dropping someone's recording.
    stored = op.get_bind().execute(
        sa.text("SELECT count(*) FROM content_chunks WHERE data IS NULL")
    )
    if stored.scalar_one():
        raise RuntimeError(
            "media messages are stored: delete them before downgrading below revision 0003"
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_messages_transcript_object_id", type_="foreignkey")
        batch_op.drop_column("content_deleted_at")
        batch_op.drop_column("transcript_label")
        batch_op.drop_column("transcript_object_id")
        batch_op.drop_column("page_count")
        batch_op.drop_column("media_seconds")
    with op.batch_alter_table("content_versions", schema=None) as batch_op:
        batch_op.alter_column(
            "ciphertext_size",
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
            existing_comment="bytes of all chunks; no plaintext size",
        )
    with op.batch_alter_table("content_chunks", schema=None) as batch_op:
        batch_op.alter_column("data", existing_type=sa.LargeBinary(), nullable=False, comment=None)
        batch_op.drop_column("hash")
        batch_op.drop_column("size")
    op.drop_table("upload_chunks")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_uploads_case_id")
    op.drop_table("uploads")
