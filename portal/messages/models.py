"""Content objects (ciphertext only), their grants, and the messages that carry them.

The server stores manifests and chunks it cannot read, and grants it cannot open. What it
enforces is *when* a grant is handed over: a recipient's grant only after they chose to open.
"""

from __future__ import annotations

from datetime import datetime
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

from portal.cases.models import Format
from portal.db import Base, Blob, IdColumn, Timestamp, str_enum
from portal.messages.states import MessageState


class ContentKind(StrEnum):
    LETTER = "letter"
    FEEDBACK = "feedback"
    CONTENT_NOTE = "content_note"
    TRANSCRIPT = "transcript"  # a transcript or translation of a recording, by a facilitator


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
    recipient_account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    recipient_case_epoch: Mapped[int | None]
    grant: Mapped[Blob]
    created_at: Mapped[Timestamp]

    __table_args__ = (
        ForeignKeyConstraint(
            ["object_id", "version"],
            ["content_versions.object_id", "content_versions.version"],
            ondelete="CASCADE",
        ),
        Index("ix_content_grants_object", "object_id", "version", "purpose"),
    )


class TranscriptLabel(StrEnum):
    TRANSCRIPT = "transcript"
    TRANSLATION = "translation"


class Message(Base):
    """One letter (later: recording) from one participant to another, through review."""

    __tablename__ = "messages"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    author_participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    recipient_participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    format: Mapped[Format] = mapped_column(str_enum(Format))
    state: Mapped[MessageState] = mapped_column(str_enum(MessageState))
    object_id: Mapped[str] = mapped_column(ForeignKey("content_objects.id"))
    version: Mapped[int] = mapped_column(comment="the version under review or released")
    submitted_at: Mapped[Timestamp]
    state_changed_at: Mapped[Timestamp]
    claimed_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    claimed_at: Mapped[datetime | None]
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    content_note_object_id: Mapped[str | None] = mapped_column(ForeignKey("content_objects.id"))
    feedback_object_id: Mapped[str | None] = mapped_column(ForeignKey("content_objects.id"))
    opened_at: Mapped[datetime | None]
    author_may_see_opened: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the recipient may know before choosing to open (declared by the author's browser).
    media_seconds: Mapped[int | None] = mapped_column(comment="declared length of recordings")
    page_count: Mapped[int | None] = mapped_column(comment="declared number of scanned pages")
    transcript_object_id: Mapped[str | None] = mapped_column(ForeignKey("content_objects.id"))
    transcript_label: Mapped[TranscriptLabel | None] = mapped_column(str_enum(TranscriptLabel))
    content_deleted_at: Mapped[datetime | None] = mapped_column(
        comment="the author deleted every version's content; the timeline stays"
    )

    events: Mapped[list[MessageEvent]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MessageEvent.id"
    )

    __table_args__ = (Index("ix_messages_queue", "case_id", "state", "submitted_at"),)


class MessageEvent(Base):
    """The author's plain timeline: each state a message passed through, and when."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    state: Mapped[MessageState] = mapped_column(str_enum(MessageState))
    version: Mapped[int]
    at: Mapped[Timestamp]

    message: Mapped[Message] = relationship(back_populates="events")


class Draft(Base):
    """An autosaved letter, sealed to its author's own key (opaque here)."""

    __tablename__ = "drafts"

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    revises_message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"))
    blob: Mapped[Blob]
    updated_at: Mapped[Timestamp]
