"""Case rows. Nothing here is content: display names arrive sealed to the case key.

A case has one key pair per epoch. Its secret reaches facilitators only as case grants made in a
facilitator's browser; participants learn its public key from a grant a facilitator made to them.
A facilitator's removal starts the next epoch (``key_change_since`` until a remaining
facilitator's browser has made it: docs/protocol-v1.md, "Case key epochs").
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account
from portal.db import Base, Blob, IdColumn, Timestamp, str_enum

# ix_participants_awaiting_key's condition (no bound values: every query that states these
# three conditions can use the index, whatever its plan).
AWAITING_KEY_PREDICATE = (
    "account_id IS NOT NULL AND withdrawn_at IS NULL AND case_public_grant IS NULL"
)

# ix_participants_grants_owed's condition: the mark messages/regrants.py sets and clears.
GRANTS_OWED_PREDICATE = "grants_owed_since IS NOT NULL"

# ix_participants_withdrawn's condition: it holds those who withdrew, and only them. Holding
# everyone, its NULLs let SQLite (which has no statistics) find "not withdrawn" through it, as
# if few: the facilitator's home then started its key hand-over, regrants and written-for parts
# from every participant of the service (tests/http/test_pages_at_scale.py, the home's plan).
WITHDRAWN_PREDICATE = "withdrawn_at IS NOT NULL"


class CaseCondition(StrEnum):
    """Whether a case lets things move: paused stops delivery, closed stops everything but
    withdrawal (the rules are in ``portal/messages/states.py``)."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class HighRisk(StrEnum):
    """Why a case is high-risk (release then needs two facilitators): a category only, never
    free text, since the server may not hold words about a case in clear."""

    DOMESTIC_ABUSE = "domestic_abuse"
    SEXUAL_HARM = "sexual_harm"
    DEATH = "death"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "domestic_abuse": "Domestic abuse",
            "sexual_harm": "Sexual harm",
            "death": "A death",
            "other": "Another serious reason",
        }[self]


class Side(StrEnum):
    PERSON_HARMED = "person_harmed"
    PERSON_RESPONSIBLE = "person_responsible"

    @property
    def label(self) -> str:
        return "Person harmed" if self is Side.PERSON_HARMED else "Person responsible"

    @property
    def other(self) -> Side:
        return Side.PERSON_RESPONSIBLE if self is Side.PERSON_HARMED else Side.PERSON_HARMED


class Format(StrEnum):
    LETTER = "letter"
    AUDIO = "audio"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"letter": "Letter", "audio": "Audio recording", "video": "Video recording"}[self]


class CaseStage(StrEnum):
    """Where a case is on its path from referral to outcome, in order (the rules for moving
    along it are in ``portal/cases/states.py``). Separate from ``CaseCondition``: a case in
    preparation may be paused, and only closing ends the path."""

    REFERRED = "referred"
    FIRST_CONTACT = "first_contact"
    ASSESSMENT = "assessment"
    PREPARATION = "preparation"
    COMMUNICATION = "communication"
    OUTCOME = "outcome"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    CaseStage.REFERRED: "Referred",
    CaseStage.FIRST_CONTACT: "First contact",
    CaseStage.ASSESSMENT: "Assessment",
    CaseStage.PREPARATION: "Preparation",
    CaseStage.COMMUNICATION: "Indirect communication",
    CaseStage.OUTCOME: "Outcome",
    CaseStage.CLOSED: "Closed",
}


class ClosingReason(StrEnum):
    """Why a case closed: a category only (what a commissioner's figures count), never words."""

    COMPLETED = "completed"
    HARMED_WITHDREW = "person_harmed_withdrew"
    RESPONSIBLE_WITHDREW = "person_responsible_withdrew"
    NOT_SUITABLE = "not_suitable"
    NO_CONTACT = "no_contact"

    @property
    def label(self) -> str:
        return {
            "completed": "Completed",
            "person_harmed_withdrew": "The person harmed withdrew",
            "person_responsible_withdrew": "The person responsible withdrew",
            "not_suitable": "Not suitable after assessment",
            "no_contact": "No contact could be made",
        }[self]


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[IdColumn]
    reference: Mapped[str] = mapped_column(
        String(40), unique=True, comment="the service's own case reference; never a name"
    )
    label: Mapped[str] = mapped_column(String(80), comment="short and non-identifying")
    status: Mapped[CaseCondition] = mapped_column(str_enum(CaseCondition))
    public_key: Mapped[Blob] = mapped_column(comment="case X25519 public key, current epoch")
    key_epoch: Mapped[int] = mapped_column(default=1)
    high_risk: Mapped[HighRisk | None] = mapped_column(
        str_enum(HighRisk), comment="set: release needs two different facilitators' approval"
    )
    high_risk_changed_at: Mapped[datetime | None]
    key_change_since: Mapped[datetime | None] = mapped_column(
        comment="a facilitator left at this time; nothing is sealed until the next epoch"
    )
    created_by_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[Timestamp]
    status_changed_at: Mapped[Timestamp]
    stage: Mapped[CaseStage] = mapped_column(
        str_enum(CaseStage), default=CaseStage.REFERRED, server_default="referred"
    )
    closing_reason: Mapped[ClosingReason | None] = mapped_column(
        str_enum(ClosingReason), comment="why it closed; none: open, or closed before reasons"
    )
    referral_id: Mapped[str | None] = mapped_column(
        ForeignKey("referrals.id"),
        unique=True,
        index=True,  # ix_cases_referral_id, unique (migration 0020)
        comment="the accepted referral it was opened from; its path starts when that arrived",
    )
    stored_bytes: Mapped[int] = mapped_column(
        BigInteger,
        default=0,
        server_default="0",
        comment="ciphertext bytes of every stored content version of the case (quotas)",
    )

    facilitators: Mapped[list[CaseFacilitator]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Participant.created_at"
    )


class StageMove(Base):
    """A case reaching a stage on its path, on the day the facilitator says (a first contact
    by phone is often recorded a day or two later), and who recorded it when."""

    __tablename__ = "case_stage_moves"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    stage: Mapped[CaseStage] = mapped_column(str_enum(CaseStage))
    reached_on: Mapped[date] = mapped_column(Date())
    recorded_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), comment="none: recorded by the portal (cases before stages)"
    )
    recorded_at: Mapped[Timestamp]

    __table_args__ = (Index("ix_case_stage_moves_case", "case_id", "recorded_at"),)


class CaseFacilitator(Base):
    __tablename__ = "case_facilitators"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    added_at: Mapped[Timestamp]
    added_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), comment="the colleague who added them; none: opened the case"
    )

    case: Mapped[Case] = relationship(back_populates="facilitators")
    account: Mapped[Account] = relationship(foreign_keys=[account_id])

    # Every facilitator page starts from the cases of one account.
    __table_args__ = (Index("ix_case_facilitators_account", "account_id", "case_id"),)


class CaseKeyGrant(Base):
    """The case secret key, boxed from one facilitator to another (or to themself)."""

    __tablename__ = "case_key_grants"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    epoch: Mapped[int]
    recipient_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    grant: Mapped[Blob]
    created_at: Mapped[Timestamp]

    sender: Mapped[Account] = relationship(foreign_keys=[sender_id])

    __table_args__ = (UniqueConstraint("case_id", "epoch", "recipient_id"),)


class CaseKeyEpoch(Base):
    """A signed case key epoch: the `case-key` statement (docs/protocol-v1.md) by which a
    facilitator vouches for the case public key of that epoch. Browsers accept a case public
    key only with such a statement from trusted staff; the server cannot make one."""

    __tablename__ = "case_key_epochs"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(primary_key=True)
    statement: Mapped[bytes] = mapped_column(
        comment="the case-key statement (canonical JSON) exactly as signed"
    )
    signature: Mapped[Blob]
    signer_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[Timestamp]
    # Whoever opens this epoch's secret key opens the one before it too (and so on back), so
    # a colleague given the current key reads the whole case. None: epoch 1, or an epoch made
    # by a browser that held no earlier key (what came before stays unreadable to its holders).
    previous_grant: Mapped[bytes | None] = mapped_column(
        comment="the previous epoch's secret key boxed to this epoch's key; none: unreadable"
    )


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    side: Mapped[Side] = mapped_column(str_enum(Side))
    display_name: Mapped[Blob] = mapped_column(comment="sealed to the case key by a facilitator")
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    formats: Mapped[str] = mapped_column(
        String(40), default="", comment="accepted formats, comma separated"
    )
    consent_recorded_at: Mapped[datetime | None]
    consent_recorded_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    case_public_grant: Mapped[bytes | None] = mapped_column(
        comment="the case public key, boxed from a facilitator to this participant"
    )
    case_public_grant_sender_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    key_verified_at: Mapped[datetime | None]
    key_verified_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    verified_public_key: Mapped[bytes | None] = mapped_column(
        comment="the key compared in person; a different current key means it changed"
    )
    # Set when a comparison in person finds grants owed to them again (messages/regrants.py:
    # their key changed, or they joined after letters went to the representative who held
    # their side), cleared once a facilitator's browser has given everything back. Only the
    # few marked are looked at by the facilitator's home and queue: what is owed is worked out
    # exactly for them alone, not for every participant of every case (bench/README.md).
    grants_owed_since: Mapped[datetime | None] = mapped_column(
        comment="since when grants may be owed again; null: nothing is"
    )
    joined_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[Timestamp]

    case: Mapped[Case] = relationship(back_populates="participants")
    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])
    case_public_grant_sender: Mapped[Account | None] = relationship(
        foreign_keys=[case_public_grant_sender_id]
    )

    __table_args__ = (
        UniqueConstraint("case_id", "account_id"),
        # An account's participant row (every participant page), not through the case.
        Index("ix_participants_account", "account_id"),
        # The facilitator's home: who withdrew lately (few, among every participant ever).
        Index(
            "ix_participants_withdrawn",
            "withdrawn_at",
            sqlite_where=text(WITHDRAWN_PREDICATE),
            postgresql_where=text(WITHDRAWN_PREDICATE),
        ),
        # Who waits for a facilitator's browser to hand over their case key (the facilitator's
        # home and the queue: cases/policy.awaiting_case_key): joined, not withdrawn, no grant
        # yet. Few at any time, among every participant ever; without it both pages read the
        # whole table.
        Index(
            "ix_participants_awaiting_key",
            "case_id",
            "joined_at",
            sqlite_where=text(AWAITING_KEY_PREDICATE),
            postgresql_where=text(AWAITING_KEY_PREDICATE),
        ),
        # Who may be owed grants again (messages/regrants.waiting_statement, on the
        # facilitator's home and the queue): few or none at any time; without it both pages
        # read every participant of every case of the facilitator's to find them.
        Index(
            "ix_participants_grants_owed",
            "case_id",
            sqlite_where=text(GRANTS_OWED_PREDICATE),
            postgresql_where=text(GRANTS_OWED_PREDICATE),
        ),
    )

    @property
    def accepted_formats(self) -> frozenset[Format]:
        return frozenset(Format(value) for value in self.formats.split(",") if value)

    @property
    def has_consented(self) -> bool:
        return self.consent_recorded_at is not None and self.withdrawn_at is None


class SupporterKind(StrEnum):
    """Someone on a participant's side: a supporter helps them (reads with them, writes with
    them); a representative acts for them, and may hold the side entirely when the participant
    wants no account of their own."""

    SUPPORTER = "supporter"
    REPRESENTATIVE = "representative"

    @property
    def label(self) -> str:
        return "Supporter" if self is SupporterKind.SUPPORTER else "Representative"


class Supporter(Base):
    """A supporter's or representative's place on one participant's side of a case, and what
    the participant agreed they may do. Their name arrives sealed to the case key (case data
    purpose ``supporter-name:<id>``); the server keeps when access began, ends and was revoked.
    """

    __tablename__ = "case_supporters"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), comment="whose side they are on"
    )
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), unique=True, comment="set when they join"
    )
    kind: Mapped[SupporterKind] = mapped_column(str_enum(SupporterKind))
    may_read: Mapped[bool] = mapped_column(Boolean, comment="what is released to the participant")
    may_write: Mapped[bool] = mapped_column(Boolean, comment="write and send on their behalf")
    may_receive_notices: Mapped[bool] = mapped_column(Boolean)
    display_name: Mapped[Blob] = mapped_column(comment="sealed to the case key by a facilitator")
    invited_by_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[Timestamp]
    joined_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None] = mapped_column(comment="access ends by itself at this time")
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    key_verified_at: Mapped[datetime | None]
    key_verified_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    verified_public_key: Mapped[bytes | None] = mapped_column(
        comment="the key compared in person; a different current key means it changed"
    )
    # For one who may write: the case public key boxed to them by a facilitator's browser (as
    # participants get it), which their letters on the participant's behalf are sealed to.
    case_public_grant: Mapped[bytes | None]
    case_public_grant_sender_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))

    participant: Mapped[Participant] = relationship()
    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])
    case_public_grant_sender: Mapped[Account | None] = relationship(
        foreign_keys=[case_public_grant_sender_id]
    )

    __table_args__ = (
        # A participant's card and home list their supporters.
        Index("ix_case_supporters_participant", "participant_id", "created_at"),
        Index("ix_case_supporters_case", "case_id"),
    )

    def has_access(self, now: datetime) -> bool:
        """Joined, not revoked, not past its end (the participant's own standing aside)."""
        return (
            self.account_id is not None
            and self.revoked_at is None
            and (self.ends_at is None or self.ends_at > now)
        )


class RequestOutcome(StrEnum):
    """How a participant's request for a supporter or representative was closed."""

    INVITED = "invited"  # a facilitator gave someone a place on their side
    TALKED_THROUGH = "talked_through"  # a facilitator closed it after talking with them
    CANCELLED = "cancelled"  # the participant no longer wants it


class SupporterRequest(Base):
    """A participant asking for a supporter or representative: what kind and what they would
    let them do. Who it is they tell their facilitator, who then adds the place (nothing about
    the person asked for is kept here)."""

    __tablename__ = "supporter_requests"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    kind: Mapped[SupporterKind] = mapped_column(str_enum(SupporterKind))
    may_read: Mapped[bool] = mapped_column(Boolean)
    may_write: Mapped[bool] = mapped_column(Boolean)
    may_receive_notices: Mapped[bool] = mapped_column(Boolean)
    requested_at: Mapped[Timestamp]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    outcome: Mapped[RequestOutcome | None] = mapped_column(str_enum(RequestOutcome))

    participant: Mapped[Participant] = relationship()

    __table_args__ = (
        # A participant's card and home show their open request; the facilitator's home the
        # open ones of their cases.
        Index("ix_supporter_requests_participant", "participant_id", "requested_at"),
        Index("ix_supporter_requests_case", "case_id", "closed_at"),
    )
