"""What the composer offers its author: whom they can write to, in which formats, and why
sending is not possible now. Reads only; never commits.

The compose page renders exactly this (templates/letters/compose.html): the recipients as
choices, the formats each of them and the author both agreed to (the browser offers recordings
and files only in those), and, instead of the send button, the sentence that says why sending
must wait. Writing and the autosaved drafts work either way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.cases.models import Format, Participant
from portal.messages import services
from portal.messages.labels import NOT_SET_UP_ON_BEHALF
from portal.messages.models import Message
from portal.messages.policy import Writer

# A participant who has joined waits for a facilitator's browser to hand over the case key;
# the facilitator sees this as a task (cases/policy.py awaiting_case_key).
NOT_SET_UP = (
    "Your facilitator has not finished setting up your case yet. They can see that it is "
    "waiting for them, and you do not need to do anything."
)
NOBODY_TO_WRITE_TO = (
    "Nobody can receive a letter at the moment. Your facilitator can tell you more."
)


@dataclass(frozen=True)
class Recipient:
    participant_id: str
    label: str  # "The person harmed", numbered when two people have the same side
    formats: tuple[str, ...]  # what both agreed to: the only formats that may be sent them


@dataclass(frozen=True)
class Composer:
    recipients: tuple[Recipient, ...]  # a revision: the one recipient it keeps
    # Offered before a recipient is chosen: the formats every recipient can receive.
    formats: tuple[str, ...]
    why_not: str | None  # why it cannot be sent now; None when it can


def _formats(author: Participant, recipient: Participant, held: bool) -> tuple[str, ...]:
    return tuple(sorted(f.value for f in services.receivable(author, recipient, held=held)))


def recipient_choices(
    author: Participant, people: list[Participant], held: frozenset[str] = frozenset()
) -> tuple[Recipient, ...]:
    """``held``: who of ``people`` has a representative holding their side (recordings reach
    them); everyone else without an account gets letters only, on paper."""
    labels = Counter(p.side.label for p in people)
    numbered: Counter[str] = Counter()
    choices = []
    for person in people:
        label = f"The {person.side.label.lower()}"
        if labels[person.side.label] > 1:
            numbered[person.side.label] += 1
            label += f" ({numbered[person.side.label]})"
        choices.append(Recipient(person.id, label, _formats(author, person, person.id in held)))
    return tuple(choices)


def not_set_up(writer: Writer) -> str:
    """Why this writer waits for a facilitator's browser before they can send."""
    return NOT_SET_UP if writer.on_behalf is None else NOT_SET_UP_ON_BEHALF


def why_cannot_send(writer: Writer, recipients: tuple[Recipient, ...]) -> str | None:
    """The sentence that says why nothing can be sent now, or None."""
    author = writer.participant
    why_not = services.why_cannot_write(author.case, author)
    if why_not is not None:
        return why_not
    if writer.case_public_grant is None:
        return not_set_up(writer)
    if not any(r.formats for r in recipients):
        return NOBODY_TO_WRITE_TO
    return None


def _composer(writer: Writer, recipients: tuple[Recipient, ...]) -> Composer:
    common = set(Format)
    for recipient in recipients:
        common &= {Format(f) for f in recipient.formats}
    formats = tuple(sorted(f.value for f in common)) if recipients else ()
    return Composer(recipients, formats, why_cannot_send(writer, recipients))


def for_new_letter(db: Session, writer: Writer) -> Composer:
    """A new letter: everyone on the other side who can receive something from this side."""
    author = writer.participant
    people = services.recipients_for(db, author)
    held = services.held_sides(db, people)
    return _composer(writer, recipient_choices(author, people, held))


def for_revision(db: Session, writer: Writer, message: Message) -> Composer:
    """The next version of a returned message: it goes to the same person."""
    recipient = message.recipient
    label = f"The {recipient.side.label.lower()}"
    held = recipient.id in services.held_sides(db, [recipient])
    formats = _formats(writer.participant, recipient, held)
    return _composer(writer, (Recipient(recipient.id, label, formats),))
