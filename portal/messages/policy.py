"""Who may reach a message: the one place these rules live. Everyone else gets NotFound.

- its case's facilitators;
- its author (the participant who wrote it);
- its recipient, and only once it was released to them: before approval the recipient does
  not learn that it exists;
- a supporter or representative allowed to read for the recipient, with access now, and only
  once the recipient chose to open it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases import policy as case_policy
from portal.cases.models import Case, CaseFacilitator, Participant, Supporter
from portal.db import utcnow
from portal.errors import NotFound
from portal.messages.models import Message
from portal.messages.states import RECIPIENT_GRANT_STATES, MessageState


def message_for_facilitator(db: Session, account: Account, message_id: str) -> tuple[Message, Case]:
    message = db.get(Message, message_id)
    if (
        message is None
        or account.role is not Role.FACILITATOR
        or db.get(CaseFacilitator, (message.case_id, account.id)) is None
    ):
        raise NotFound
    return message, message.case


def own_participation(db: Session, account: Account) -> Participant:
    participant = case_policy.participation(db, account)
    if participant is None:
        raise NotFound
    return participant


def message_for_author(
    db: Session, account: Account, message_id: str
) -> tuple[Message, Participant]:
    participant = own_participation(db, account)
    message = db.get(Message, message_id)
    if message is None or message.author_participant_id != participant.id:
        raise NotFound
    return message, participant


def message_for_recipient(
    db: Session, account: Account, message_id: str
) -> tuple[Message, Participant]:
    participant = own_participation(db, account)
    message = db.get(Message, message_id)
    if (
        message is None
        or message.recipient_participant_id != participant.id
        or message.state not in RECIPIENT_GRANT_STATES
    ):
        raise NotFound
    return message, participant


def reading_place(db: Session, account: Account) -> Supporter | None:
    """The supporter's place if it lets them read for its participant now."""
    place = case_policy.support_place(db, account)
    if (
        place is None
        or not place.may_read
        or not place.has_access(utcnow())
        or place.participant.withdrawn_at is not None
    ):
        return None
    return place


def message_for_supporter(
    db: Session, account: Account, message_id: str
) -> tuple[Message, Supporter]:
    place = reading_place(db, account)
    message = db.get(Message, message_id) if place is not None else None
    if (
        place is None
        or message is None
        or message.recipient_participant_id != place.participant_id
        or message.state is not MessageState.OPENED
    ):
        raise NotFound
    return message, place
