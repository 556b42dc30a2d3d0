"""Referral rows. The server keeps the referral key's public half and the statement that
publishes it, each holder's grant of its secret half (boxed in a browser, opaque here), who is
designated to read referrals, and each referral as ciphertext with the few facts that route it.
Nothing a person typed is here in clear (docs/api-referrals.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Blob, IdColumn, Timestamp, str_enum
from portal.referrals.states import DeclineReason, ReferralState


class Channel(StrEnum):
    """Which public page a referral came through."""

    AGENCY = "agency"
    SELF = "self"

    @property
    def label(self) -> str:
        return {"agency": "Partner agency", "self": "Self-referral"}[self.value]


class Source(StrEnum):
    """The referrer's kind of agency, kept in clear for routing and figures (never a name)."""

    POLICE = "police"
    VICTIM_SERVICES = "victim_services"
    PROBATION = "probation"
    PRISON = "prison"
    YOUTH_JUSTICE = "youth_justice"
    OTHER = "other"
    SELF = "self"

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]


SOURCE_LABELS = {
    Source.POLICE: "Police",
    Source.VICTIM_SERVICES: "Victim services",
    Source.PROBATION: "Probation",
    Source.PRISON: "Prison",
    Source.YOUTH_JUSTICE: "Youth justice",
    Source.OTHER: "Another organisation",
    Source.SELF: "The person themself",
}
# What a partner agency may choose on /refer (a self-referral is always Source.SELF).
AGENCY_SOURCES = tuple(source for source in Source if source is not Source.SELF)


class ReferralKey(Base):
    """The service's referral key: its public half and the `referral-key` statement a certified
    service manager signed for it. The secret half exists only in holders' browsers and, boxed,
    in their grants."""

    __tablename__ = "referral_keys"

    id: Mapped[str] = mapped_column(
        String(36), primary_key=True, comment="the key id the statement and every seal bind"
    )
    public_key: Mapped[Blob]
    statement: Mapped[bytes] = mapped_column(comment="canonical JSON bytes exactly as signed")
    signature: Mapped[Blob]
    signer_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[Timestamp]


class ReferralKeyGrant(Base):
    """The referral secret key boxed from one holder's key to another's (or their own)."""

    __tablename__ = "referral_key_grants"

    key_id: Mapped[str] = mapped_column(
        ForeignKey("referral_keys.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    sender_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    sender_public_key: Mapped[Blob] = mapped_column(
        comment="the box key the grant was made with; the browser checks it in the trust log"
    )
    grant: Mapped[Blob]
    created_at: Mapped[Timestamp]


class ReferralReader(Base):
    """A facilitator a service manager designated to read referrals (service managers read
    them by role). Removing the designation deletes their grant in the same transaction."""

    __tablename__ = "referral_readers"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    designated_by_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    designated_at: Mapped[Timestamp]


class Referral(Base):
    """One referral: ciphertext sealed to the referral key, and what routes it."""

    __tablename__ = "referrals"

    id: Mapped[IdColumn]
    reference: Mapped[str] = mapped_column(
        String(16), unique=True, comment="R-XXXX-XXXX, random, told to the sender"
    )
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    source: Mapped[Source] = mapped_column(
        str_enum(Source), comment="the referrer's kind of agency, or self"
    )
    key_id: Mapped[str] = mapped_column(ForeignKey("referral_keys.id"))
    ciphertext: Mapped[Blob] = mapped_column(
        comment="crypto_box_seal to the referral key, padded to a size bucket"
    )
    received_at: Mapped[datetime]
    # Triage (portal/referrals/states.py; docs/api-referrals.md "Triage"). Notes are sealed to
    # the referral key in a holder's browser; the share is boxed to the facilitator who holds
    # the case. The server reads neither.
    state: Mapped[ReferralState] = mapped_column(
        str_enum(ReferralState), default=ReferralState.RECEIVED, server_default="received"
    )
    state_changed_at: Mapped[datetime | None] = mapped_column(comment="the last triage move")
    triaged_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), comment="who made the last triage move"
    )
    more_info_asked_at: Mapped[datetime | None]
    more_info_note: Mapped[bytes | None] = mapped_column(
        comment="optional note for the other holders, sealed to the referral key"
    )
    decline_reason: Mapped[DeclineReason | None] = mapped_column(str_enum(DeclineReason))
    decline_note: Mapped[bytes | None] = mapped_column(
        comment="optional note for the other holders, sealed to the referral key"
    )
    assigned_facilitator_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), comment="accepted: the facilitator who is to open its case"
    )
    share: Mapped[bytes | None] = mapped_column(
        comment="accepted: the referral boxed to the facilitator (a referral share)"
    )
    share_sender_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    share_sender_public_key: Mapped[bytes | None] = mapped_column(
        comment="the box key the share was made with; the browser checks it in the trust log"
    )

    __table_args__ = (
        Index("ix_referrals_key", "key_id"),
        Index("ix_referrals_received", "received_at"),
        Index("ix_referrals_assigned", "assigned_facilitator_id"),
    )
