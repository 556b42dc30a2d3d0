"""Content objects (ciphertext only), their versions, chunks and grants, and uploads in progress.

The server stores manifests and chunks it cannot read, and grants it cannot open. What it
enforces is *when* a grant is handed over (that rule belongs to whoever carries the object: see
``portal/messages``).

An upload is keyed by the content object and version it will become. Its chunks live in the
blob store under the same key they keep once submitted, so submitting moves no bytes: the
upload rows are consumed and ``content_chunks`` rows (data NULL) point at the same blobs.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.db import Base, Blob, IdColumn, Timestamp, str_enum


class ContentKind(StrEnum):
    LETTER = "letter"
    FEEDBACK = "feedback"
    CONTENT_NOTE = "content_note"
    TRANSCRIPT = "transcript"  # a transcript or translation of a recording, by a facilitator
    # A first approver's words to the second facilitator (a high-risk case): case key only.
    APPROVAL_NOTE = "approval_note"


class ContentObject(Base):
    """An id issued before encryption (the AD binds every chunk to it), then its versions."""

    __tablename__ = "content_objects"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[ContentKind] = mapped_column(str_enum(ContentKind))
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    entered_for_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id"),
        comment="set when a facilitator entered it on a participant's behalf",
    )
    created_at: Mapped[Timestamp]

    __table_args__ = (Index("ix_content_objects_case", "case_id"),)


class ContentVersion(Base):
    __tablename__ = "content_versions"

    object_id: Mapped[str] = mapped_column(
        ForeignKey("content_objects.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest: Mapped[Blob]
    manifest_hash: Mapped[Blob]
    ciphertext_size: Mapped[int] = mapped_column(
        BigInteger, comment="bytes of all chunks; no plaintext size"
    )
    created_at: Mapped[Timestamp]


class ContentChunk(Base):
    __tablename__ = "content_chunks"

    object_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="inline ciphertext; NULL when the chunk lives in the blob store"
    )
    size: Mapped[int] = mapped_column(Integer, comment="ciphertext bytes, nonce and tag included")
    hash: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="protocol chunk_hash; NULL only for inline rows from before 0003"
    )

    @property
    def inline(self) -> bool:
        return self.data is not None

    __table_args__ = (
        ForeignKeyConstraint(
            ["object_id", "version"],
            ["content_versions.object_id", "content_versions.version"],
            ondelete="CASCADE",
        ),
    )


class GrantPurpose(StrEnum):
    CASE = "case"  # to the case key, so the case's facilitators can review
    AUTHOR = "author"  # to the author, so they can read their own words again
    RECIPIENT = "recipient"  # made at approval; handed over only when the recipient opts in


class ContentGrant(Base):
    __tablename__ = "content_grants"

    id: Mapped[IdColumn]
    object_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int]
    purpose: Mapped[GrantPurpose] = mapped_column(str_enum(GrantPurpose))
    sender_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    sender_public_key: Mapped[bytes | None] = mapped_column(
        comment="the sender's box public key when the grant was made (NULL: made before 0012)"
    )
    recipient_account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    recipient_case_epoch: Mapped[int | None]
    grant: Mapped[Blob]
    created_at: Mapped[Timestamp]

    sender: Mapped[Account] = relationship(foreign_keys=[sender_id])

    @property
    def sender_box_key(self) -> bytes:
        """The key that opens the grant's box: the sender's key of the day it was made (an
        account given a new key pair since keeps its old grants openable)."""
        return self.sender_public_key or self.sender.public_key

    __table_args__ = (
        ForeignKeyConstraint(
            ["object_id", "version"],
            ["content_versions.object_id", "content_versions.version"],
            ondelete="CASCADE",
        ),
        Index("ix_content_grants_object", "object_id", "version", "purpose"),
        Index("ix_content_grants_recipient", "recipient_account_id"),
    )


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


class Draft(Base):
    """An autosaved letter, sealed to its author's own key (opaque here). Kept with the other
    ciphertext because it counts towards the case's storage like everything else stored."""

    __tablename__ = "drafts"

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    revises_message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"))
    blob: Mapped[Blob]
    updated_at: Mapped[Timestamp]

    __table_args__ = (
        Index("ix_drafts_case", "case_id"),
        Index("ix_drafts_account", "account_id"),
    )
