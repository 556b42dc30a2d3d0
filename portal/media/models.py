"""Uploads in progress: which chunks of an unsubmitted version the server already holds.

An upload is keyed by the content object and version it will become. Its chunks live in the
blob store under the same key they keep once submitted, so submitting moves no bytes: the
upload rows are consumed and ``content_chunks`` rows (data NULL) point at the same blobs.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Timestamp


class PendingUpload(Base):
    __tablename__ = "uploads"

    object_id: Mapped[str] = mapped_column(
        ForeignKey("content_objects.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    declared_bytes: Mapped[int] = mapped_column(
        BigInteger, comment="ciphertext bytes the browser said it will upload; counts to quotas"
    )
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(comment="last activity; expiry counts from here")


class HeldChunk(Base):
    """A chunk held in the blob store for an upload: its size and chunk_hash, nothing else."""

    __tablename__ = "upload_chunks"

    object_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    hash: Mapped[bytes] = mapped_column(LargeBinary, comment="protocol chunk_hash of the bytes")
    created_at: Mapped[Timestamp]

    __table_args__ = (
        ForeignKeyConstraint(
            ["object_id", "version"],
            ["uploads.object_id", "uploads.version"],
            ondelete="CASCADE",
        ),
    )
