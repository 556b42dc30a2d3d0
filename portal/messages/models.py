"""Messages between participants, their plain timeline, and autosaved drafts.

A message carries a content object (``portal/content``) through review. What the server
enforces is *when* a grant is handed over: a recipient's grant only after they chose to open.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import Case, Format, Participant, Supporter
from portal.content.models import ContentObject, Draft
from portal.db import Base, IdColumn, Timestamp, str_enum
from portal.messages.entered import ConfirmedHow
from portal.messages.states import WAITING_FOR_REVIEW, MessageState

# ix_messages_waiting's condition: the states WAITING_FOR_REVIEW holds, in a fixed order, as
# the queries that use the index write them (messages/services.py waiting_for_review).
WAITING_STATES = sorted(state.value for state in WAITING_FOR_REVIEW)
WAITING_PREDICATE = "state IN (" + ", ".join(f"'{state}'" for state in WAITING_STATES) + ")"
# ix_messages_written_for's condition: written by a supporter or representative on the author's
# behalf.
WRITTEN_FOR_PREDICATE = "written_by_supporter_id IS NOT NULL"

__all__ = ["Draft", "Message", "MessageEvent", "TranscriptLabel"]


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
    decline_told_at: Mapped[datetime | None] = mapped_column(
        comment="declined: when a facilitator recorded telling its writer; none: not yet"
    )
    # What the recipient may know before choosing to open (declared by the author's browser).
    media_seconds: Mapped[int | None] = mapped_column(comment="declared length of recordings")
    page_count: Mapped[int | None] = mapped_column(comment="declared number of scanned pages")
    transcript_object_id: Mapped[str | None] = mapped_column(ForeignKey("content_objects.id"))
    transcript_label: Mapped[TranscriptLabel | None] = mapped_column(str_enum(TranscriptLabel))
    # A high-risk case's first approval (states.APPROVED_ONCE): who gave it, when, and their
    # note to the second facilitator, sealed to the case key only (no one else's grant).
    first_approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    first_approved_at: Mapped[datetime | None]
    approval_note_object_id: Mapped[str | None] = mapped_column(ForeignKey("content_objects.id"))
    content_deleted_at: Mapped[datetime | None] = mapped_column(
        comment="the author deleted every version's content; the timeline stays"
    )
    # Written by a supporter or representative on the author participant's behalf (their
    # account is the content's author): every page that shows the message says so.
    written_by_supporter_id: Mapped[str | None] = mapped_column(
        ForeignKey("case_supporters.id"), comment="written on the participant's behalf by them"
    )
    # Entered by a facilitator for an author without access (messages/entered.py): who, how
    # and when the author confirmed it, and the facilitator's words about that, sealed to the
    # case key (purpose ``entered-note:<object id>``).
    entered_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"),
        comment="the facilitator who entered it for its author, who has no access",
    )
    entered_how: Mapped[ConfirmedHow | None] = mapped_column(str_enum(ConfirmedHow))
    entered_confirmed_on: Mapped[date | None]
    entered_note: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="sealed to the case key (purpose entered-note:<object id>)"
    )
    # Released on paper to a recipient without access (messages/paper.py): when a facilitator
    # last printed it; until then it is a "to print" task on the home and the queue.
    printed_at: Mapped[datetime | None] = mapped_column(
        comment="last printed for its recipient, who has no access"
    )

    events: Mapped[list[MessageEvent]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MessageEvent.id"
    )
    case: Mapped[Case] = relationship()
    author: Mapped[Participant] = relationship(foreign_keys=[author_participant_id])
    recipient: Mapped[Participant] = relationship(foreign_keys=[recipient_participant_id])
    content_object: Mapped[ContentObject] = relationship(foreign_keys=[object_id])
    written_by: Mapped[Supporter | None] = relationship(foreign_keys=[written_by_supporter_id])

    __table_args__ = (
        # The review queue: ids in order without reading rows (messages/services.review_queue).
        Index("ix_messages_queue", "case_id", "state", "submitted_at", "id"),
        # What waits for review, alone (a few percent of every message ever): the queue's
        # "waiting", its case filter and every count of waiting items probe this small index,
        # not the whole queue's. Queries name the states as literals (messages/services.py
        # WAITING_LITERAL), so PostgreSQL's generic plans can use it too.
        Index(
            "ix_messages_waiting",
            "case_id",
            "submitted_at",
            "id",
            sqlite_where=text(WAITING_PREDICATE),
            postgresql_where=text(WAITING_PREDICATE),
        ),
        # A participant's home: what they wrote, newest first; what was passed on to them.
        Index("ix_messages_author", "author_participant_id", "submitted_at"),
        Index("ix_messages_recipient", "recipient_participant_id", "state_changed_at"),
        # Which message names a content object: every chunk GET and upload PUT asks
        # (media/policy.py), for the letter itself and for feedback, notes and transcripts.
        Index("ix_messages_object", "object_id"),
        Index("ix_messages_feedback_object", "feedback_object_id"),
        Index("ix_messages_content_note_object", "content_note_object_id"),
        Index("ix_messages_transcript_object", "transcript_object_id"),
        Index("ix_messages_approval_note_object", "approval_note_object_id"),
        # What a supporter or representative wrote (messages/regrants.py: owed to them again
        # after a re-key), without reading every message of every case.
        Index("ix_messages_written_by", "written_by_supporter_id"),
        # What was written on a participant's behalf, by its author (messages/regrants.py
        # written_for_statement, a part of the facilitator's home): few among everything each
        # participant wrote, which the home otherwise read through for every participant of
        # the facilitator's cases (3.5 of its statement's 12.4 ms on SQLite at 1/10 size).
        Index(
            "ix_messages_written_for",
            "author_participant_id",
            sqlite_where=text(WRITTEN_FOR_PREDICATE),
            postgresql_where=text(WRITTEN_FOR_PREDICATE),
        ),
    )


class MessageEvent(Base):
    """The author's plain timeline: each state a message passed through, and when."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    state: Mapped[MessageState] = mapped_column(str_enum(MessageState))
    version: Mapped[int]
    at: Mapped[Timestamp]

    message: Mapped[Message] = relationship(back_populates="events")

    __table_args__ = (Index("ix_message_events_message", "message_id", "id"),)
