"""A participant without access, through the facilitators of their case (messages/entered.py):
what is released to them reaches them on paper, and a letter entered for them is withdrawn for
them. Never commits.

The print view shows only what was released (approved, and not stopped since) to a recipient
who has no account; each print is audited as ``message:printed-for-participant`` (ids only).
A letter entered for someone is theirs to withdraw as any author's is: they tell a facilitator,
who withdraws it for them (the same state machine move, audited with the facilitator as actor)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.errors import Conflict, NotFound
from portal.messages import services
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
    """A facilitator of the case printed it for its recipient: audited, nothing else changes
    (the recipient's own choices do not apply on paper)."""
    require_on_paper(message)
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


def withdraw_for_them(
    db: Session, settings: Settings, facilitator: Account, message: Message
) -> None:
    if message.entered_by_id is None or message.author.account_id is not None:
        raise NotFound
    services.withdraw_letter(db, settings, facilitator, message)  # locks the row, then moves
