"""A participant without access, through the facilitators of their case (messages/entered.py):
what is released to them reaches them on paper, and a letter entered for them is withdrawn or
revised for them. Never commits.

The print view shows only what was released (approved, and not stopped since) to a recipient
who has no account; each print is audited as ``message:printed-for-participant`` (ids only).
Until it is printed, it is a "to print" task on the facilitators' home and queue (``to_print``);
printing it again stays possible from its review page.
A letter entered for someone is theirs to withdraw as any author's is: they tell a facilitator,
who withdraws it for them (the same state machine move, audited with the facilitator as actor).
Returned for changes, it is revised for them by a facilitator of the case (the same move as an
author's revision) with a fresh confirmation: the participant confirms the changed words, on or
after the day it was returned (``entered.revision_confirmation_refusal``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, exists, literal_column, select
from sqlalchemy.orm import Session, aliased

from portal import local_time
from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.blobstore import BlobStore
from portal.cases import policy as case_policy
from portal.cases.models import Case, CaseFacilitator, Participant, Side
from portal.cases.services import require_participant_action
from portal.cases.states import ParticipantAction
from portal.content.models import ContentGrant, GrantPurpose
from portal.db import DriverQuery, ReadTransaction, lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.messages import services
from portal.messages.entered import revision_confirmation_refusal
from portal.messages.models import Message
from portal.messages.states import RECIPIENT_GRANT_STATES, author_actions
from portal.settings import Settings

NOT_RELEASED = (
    "This letter has not been released, or no longer is, so it cannot be printed for them."
)


def require_on_paper(message: Message) -> None:
    """Only a message to someone without access has a print view (NotFound otherwise), and only
    while it stands released (Conflict with the sentence otherwise)."""
    if message.recipient.account_id is not None:
        raise NotFound
    if message.state not in RECIPIENT_GRANT_STATES or message.content_deleted_at is not None:
        raise Conflict(NOT_RELEASED)


def printed(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    """A facilitator of the case printed it for its recipient: audited, and it leaves the "to
    print" task; nothing else changes (the recipient's own choices do not apply on paper)."""
    lock_row(db, message)
    require_on_paper(message)
    message.printed_at = utcnow()
    record(
        db,
        settings,
        AuditTag.MESSAGE_PRINTED_FOR_PARTICIPANT,
        actor_id=facilitator.id,
        subject_id=message.id,
    )


def may_withdraw_for_them(message: Message) -> bool:
    """Entered for someone who still has no account, and the state machine lets its author
    withdraw it now (the review page offers "Withdraw it for them" only then)."""
    return (
        message.entered_by_id is not None
        and message.author.account_id is None
        and author_actions(
            message.state,
            message.case.status,
            content_deleted=message.content_deleted_at is not None,
        ).withdraw
    )


def _require_entered_for_them(message: Message) -> None:
    """Only a message entered for someone who still has no account is a facilitator's to
    withdraw or revise for them (NotFound otherwise: its author's alone)."""
    if message.entered_by_id is None or message.author.account_id is not None:
        raise NotFound


def withdraw_for_them(
    db: Session, settings: Settings, facilitator: Account, message: Message
) -> None:
    _require_entered_for_them(message)
    services.withdraw_letter(db, settings, facilitator, message)  # locks the row, then moves


NOT_RETURNED = "Only something returned for changes can be revised, and this is not (any more)."
TAKEN_UP_BY_ANOTHER = (
    "Another facilitator of the case started making these changes since the page was loaded. "
    "Please reload the page."
)


def may_revise_for_them(message: Message) -> bool:
    """Entered for someone who still has no account, and returned for changes: the review page
    offers "Make changes for them" only then."""
    return (
        message.entered_by_id is not None
        and message.author.account_id is None
        and author_actions(
            message.state,
            message.case.status,
            content_deleted=message.content_deleted_at is not None,
        ).revise
    )


def take_up_revision(db: Session, facilitator: Account, message: Message) -> tuple[str, int]:
    """The object and version the next version goes into, sealed and uploaded by
    ``facilitator``: the object becomes theirs (uploads into it are its author's alone,
    media/policy.upload_target), since any facilitator of the case may make the changes."""
    _require_entered_for_them(message)
    lock_row(db, message)
    if not may_revise_for_them(message):
        raise Conflict(NOT_RETURNED)
    message.content_object.author_id = facilitator.id
    return message.object_id, message.version + 1


def revise_for_them(
    db: Session,
    settings: Settings,
    blobs: BlobStore,
    facilitator: Account,
    message: Message,
    letter: services.LetterIn,
    confirmation: services.Confirmation,
) -> services.Submitted:
    """The next version of a returned message entered for someone without access, with how and
    when they confirmed the changed words; back into the queue, labelled as entered by the
    facilitator who sealed this version."""
    _require_entered_for_them(message)
    author = message.author
    # Locked in this order, as entering does: joining (which ends entering for them) cannot
    # cross it, nor a withdrawal or a second revision.
    lock_row(db, author)
    lock_row(db, message)
    require_participant_action(message.case, author, ParticipantAction.ENTER_FOR)
    if not may_revise_for_them(message):
        raise Conflict(NOT_RETURNED)
    refusal = revision_confirmation_refusal(
        confirmation.on,
        local_time.local(message.state_changed_at).date(),
        local_time.local(utcnow()).date(),
    )
    if refusal is not None:
        raise BadInput(refusal, field="confirmed_on")
    if message.content_object.author_id != facilitator.id:
        raise Conflict(TAKEN_UP_BY_ANOTHER)
    submitted = services.submit(db, settings, blobs, facilitator, author, letter, revising=message)
    message.entered_by_id = facilitator.id
    message.entered_how = confirmation.how
    message.entered_confirmed_on = confirmation.on
    message.entered_note = confirmation.sealed_note
    record(db, settings, AuditTag.MESSAGE_ENTERED, actor_id=facilitator.id, subject_id=message.id)
    return submitted


# ------------------------------------------------------------------------------ to print

# Shown on the home and above the queue; more than this is said as a number.
TO_PRINT_SHOWN = 20


@dataclass(frozen=True)
class PrintTask:
    message_id: str
    case_id: str
    reference: str
    recipient_side: Side
    released_at: datetime


@dataclass(frozen=True)
class ToPrint:
    """Released on paper and not printed yet, in my cases: the first TO_PRINT_SHOWN, oldest
    first, and whether there are more."""

    items: list[PrintTask]
    more: bool

    def __bool__(self) -> bool:
        return bool(self.items)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> ToPrint:
        """From to_print_statement's rows, in its order (up to TO_PRINT_SHOWN + 1)."""
        items = [PrintTask(*row) for row in rows]
        return cls(items[:TO_PRINT_SHOWN], len(items) > TO_PRINT_SHOWN)


@cache
def to_print_statement() -> Select[str, str, str, Side, datetime]:
    """Released (and not stopped since) to a recipient without an account, with no grant to a
    representative holding their side (then it was offered to them, not put on paper: a grant
    taken away with their access puts it on paper again), and not printed yet. Built once, the
    facilitator bound at execution."""
    recipient = aliased(Participant)
    # In one order: the SQL is the same in every process (the home kept is told by its hash).
    released = [
        literal_column(f"'{state.value}'", String) for state in sorted(RECIPIENT_GRANT_STATES)
    ]
    offered_to_holder = exists().where(
        ContentGrant.object_id == Message.object_id,
        ContentGrant.purpose == literal_column(f"'{GrantPurpose.RECIPIENT.value}'", String),
    )
    facilitator_id = bindparam("account_id", type_=String)
    return (
        select(Message.id, Case.id, Case.reference, recipient.side, Message.state_changed_at)
        .join(Case, Case.id == Message.case_id)
        .join(recipient, recipient.id == Message.recipient_participant_id)
        .join(CaseFacilitator, case_policy.facilitated_by(Message.case_id, facilitator_id))
        .where(
            Message.state.in_(released),
            and_(Message.content_deleted_at.is_(None), Message.printed_at.is_(None)),
            recipient.account_id.is_(None),
            ~offered_to_holder,
        )
        .order_by(Message.state_changed_at, Message.id)
        .limit(TO_PRINT_SHOWN + 1)
    )


@cache
def _to_print_query() -> DriverQuery:
    # On the driver (db.DriverQuery): the facilitator's home runs it on every visit.
    return DriverQuery(to_print_statement())


def to_print(db: Session | ReadTransaction, facilitator: Account) -> ToPrint:
    """What waits to be printed for participants without access in my cases (one statement)."""
    return ToPrint.from_rows(_to_print_query().all(db, {"account_id": facilitator.id}))
