"""Notice preferences, the outbox, and each person's dated list of what happened.

A preference row exists only while a person has notices on: turning them off deletes it, and
with it the e-mail address and every notice not yet sent (``ON DELETE CASCADE``). An outbox row
says only whose notice it is and why: never an address, a name or content.

An event row (``AccountEvent``) is written for everyone an event concerns, whether or not they
have notices on and whether or not a mail server is set up: the portal's own homes list them,
so the portal is complete without mail. It too holds only whose, which kind and when.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, Timestamp, str_enum


class Frequency(StrEnum):
    EACH = "each"  # a notice for each event (still after quiet hours)
    DIGEST = "digest"  # at most one a day


class NoticeEvent(StrEnum):
    """What happened (an event, and why a notice was queued): shown in the person's own
    "What happened lately" list in neutral words (services.EVENT_WORDS), never put in a mail."""

    WAITING_FOR_YOU = "waiting_for_you"
    RETURNED_WITH_SUGGESTIONS = "returned_with_suggestions"
    SUPPORTER_INVITED = "supporter_invited"
    WAITING_FOR_REVIEW = "waiting_for_review"
    WAITING_FOR_SECOND_APPROVAL = "waiting_for_second_approval"
    WITHDRAWAL = "withdrawal"
    DECLINE = "decline"
    KEY_TO_VERIFY = "key_to_verify"
    SECURITY_EVENT = "security_event"
    NEW_BROWSER_SIGN_IN = "new_browser_sign_in"
    REFERRAL_OVERDUE = "referral_overdue"
    TEST = "test"


class NoticePreference(Base):
    __tablename__ = "notice_preferences"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(
        String(254), comment="personal data: kept only while notices are on; never logged"
    )
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency))
    quiet_from_minute: Mapped[int | None] = mapped_column(
        Integer, comment="quiet hours start, minutes after midnight in the service's zone"
    )
    quiet_to_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[Timestamp]
    last_sent_at: Mapped[datetime | None] = mapped_column(
        comment="the last notice sent: a digest waits for the next local day"
    )


class Notice(Base):
    """One event to tell someone about; the runner sends a person's due notices as one mail."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_unsent", "sent_at", "next_attempt_at"),)

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(
        ForeignKey("notice_preferences.account_id", ondelete="CASCADE"), index=True
    )
    event: Mapped[NoticeEvent] = mapped_column(str_enum(NoticeEvent))
    subject_id: Mapped[str | None] = mapped_column(
        String(36),
        comment="what a notice the runner queued is about (an overdue referral), as its "
        "account event says (which makes it queued once); never shown or sent",
    )
    created_at: Mapped[Timestamp]
    next_attempt_at: Mapped[datetime] = mapped_column(
        comment="not before: quiet hours, the daily digest or the backoff after a failure"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]


class AccountEvent(Base):
    """Something that happened for one person, for their own dated list (their home and the
    notices page): written in the transaction of the change, for everyone it concerns, with
    notices on or off. The kind and the time only: never content, a name, an address or a case
    reference. Kept EVENTS_KEPT (services.py), then pruned by the maintenance job."""

    __tablename__ = "account_events"
    __table_args__ = (
        Index("ix_account_events_account", "account_id", "created_at"),
        Index("ix_account_events_created", "created_at"),
    )

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event: Mapped[NoticeEvent] = mapped_column(str_enum(NoticeEvent))
    subject_id: Mapped[str | None] = mapped_column(
        String(36),
        comment="what an event the runner records is about (an overdue referral), so it is "
        "recorded (and told) once; never shown or sent",
    )
    created_at: Mapped[Timestamp]
