"""Who may reach a message: the one place these rules live. Everyone else gets NotFound.

- its case's facilitators;
- its author: the participant who wrote it, or the supporter or representative who wrote it on
  their behalf (then the participant sees it too, labelled, and may stop it: ``message_for_side``);
- its recipient, and only once it was released to them: before approval the recipient does
  not learn that it exists (for a participant without an account, the representative who holds
  their side receives for them: ``receiving_side``);
- a supporter or representative allowed to read for the recipient, with access now, and only
  once the recipient chose to open it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases import policy as case_policy
from portal.cases import supporters
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


@dataclass(frozen=True)
class Writer:
    """Who writes for a side: the participant themself (``on_behalf`` None), or a supporter or
    representative the participant agreed may write and send for them."""

    participant: Participant
    on_behalf: Supporter | None = None

    @property
    def case_public_grant(self) -> bytes | None:
        """The case public key boxed to this writer (their letters are sealed to it)."""
        if self.on_behalf is not None:
            return self.on_behalf.case_public_grant
        return self.participant.case_public_grant

    @property
    def grant_sender(self) -> Account | None:
        if self.on_behalf is not None:
            return self.on_behalf.case_public_grant_sender
        return self.participant.case_public_grant_sender

    def wrote(self, message: Message) -> bool:
        """Whether this writer (not just this side) wrote ``message``."""
        written_by = self.on_behalf.id if self.on_behalf is not None else None
        return (
            message.author_participant_id == self.participant.id
            and message.written_by_supporter_id == written_by
        )


def writing_place(db: Session, account: Account) -> Supporter | None:
    """The supporter's place if it lets them write for its participant now."""
    place = case_policy.support_place(db, account)
    if (
        place is None
        or not place.may_write
        or not place.has_access(utcnow())
        or place.participant.withdrawn_at is not None
    ):
        return None
    return place


def writer(db: Session, account: Account) -> Writer:
    """The side ``account`` writes for: their own, or the participant they may write for."""
    if account.role is Role.SUPPORTER:
        place = writing_place(db, account)
        if place is None:
            raise NotFound
        return Writer(place.participant, place)
    return Writer(own_participation(db, account))


def message_for_author(db: Session, account: Account, message_id: str) -> tuple[Message, Writer]:
    """A message ``account`` wrote (for themself or on a participant's behalf)."""
    author = writer(db, account)
    message = db.get(Message, message_id)
    if message is None or not author.wrote(message):
        raise NotFound
    return message, author


def message_for_side(db: Session, account: Account, message_id: str) -> tuple[Message, Writer]:
    """What ``account`` wrote, or, for a participant, also what was written on their behalf
    (they see it labelled and may stop it, but it was sealed for its writer, not them)."""
    author = writer(db, account)
    message = db.get(Message, message_id)
    if message is None or message.author_participant_id != author.participant.id:
        raise NotFound
    if author.on_behalf is not None and not author.wrote(message):
        raise NotFound
    return message, author


def receiving_side(db: Session, account: Account) -> Participant:
    """The participant ``account`` receives for: their own, or, for the representative who
    holds the side of a participant without an account, that participant."""
    if account.role is Role.SUPPORTER:
        place = case_policy.support_place(db, account)
        if place is None or supporters.holder_of(db, place.participant) is not place:
            raise NotFound
        return place.participant
    return own_participation(db, account)


def message_for_recipient(
    db: Session, account: Account, message_id: str
) -> tuple[Message, Participant]:
    participant = receiving_side(db, account)
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
