"""Letters and recordings a facilitator entered for a participant who cannot use the portal:
how the participant confirmed the content, and the words every page uses for it. Pure: no
database, no clock (the caller passes today's date in the service's zone).

"On behalf of" means the message is the participant's side's: its author is the participant
(``messages.author_participant_id``), so it goes to the other side, through the same review,
under the same consent. Who actually sealed it is the entering facilitator
(``messages.entered_by_id``, the content object's author), and every page says so.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from portal.cases.models import Format

# What reaches a participant without access: on paper, printed by a facilitator of the case
# (the print view), so only what can be printed. "Released" to them means the case's
# facilitators may print it; they already read it with the case key (the author's grant to the
# case key), so no further grant is made for anyone.
PAPER_FORMATS = frozenset({Format.LETTER})


class ConfirmedHow(StrEnum):
    """How the participant confirmed what was entered for them (a category, never free text:
    free words go in the sealed note)."""

    READ_BACK_IN_PERSON = "read_back_in_person"
    SIGNED_PAPER = "signed_paper"
    READ_BACK_BY_PHONE = "read_back_by_phone"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The choice as the facilitator's form offers it."""
        return _CHOICES[self]

    @property
    def phrase(self) -> str:
        """As the recipient reads it after "confirmed": "by reading it back to them in person"."""
        return _PHRASES[self]


_CHOICES = {
    ConfirmedHow.READ_BACK_IN_PERSON: "Read back to them in person",
    ConfirmedHow.SIGNED_PAPER: "They signed the paper copy",
    ConfirmedHow.READ_BACK_BY_PHONE: "Read back to them by phone",
    ConfirmedHow.OTHER: "Another way (say how in the note)",
}
_PHRASES = {
    ConfirmedHow.READ_BACK_IN_PERSON: "by reading it back to them in person",
    ConfirmedHow.SIGNED_PAPER: "by their signature on the paper copy",
    ConfirmedHow.READ_BACK_BY_PHONE: "by reading it back to them by phone",
    ConfirmedHow.OTHER: "with them",
}

# A confirmation older than this is more likely a typing slip than a real date.
OLDEST_CONFIRMATION = timedelta(days=366)


def confirmation_refusal(confirmed_on: date, today: date) -> str | None:
    """Why this confirmation date cannot be right (a sentence), or None."""
    if confirmed_on > today:
        return "The date they confirmed it cannot be in the future."
    if confirmed_on < today - OLDEST_CONFIRMATION:
        return "The date they confirmed it is more than a year ago. Please check it."
    return None


def day_text(day: date) -> str:
    """ "3 March 2027": a date as the pages write one (portal/local_time.py day)."""
    return f"{day.day} {day.strftime('%B %Y')}"


def staff_label(entered_by: str, side_lower: str) -> str:
    """What facilitators read: "Entered by sam.jones for the person responsible"."""
    return f"Entered by {entered_by} for the {side_lower}"


def recipient_label(side_lower: str, how: ConfirmedHow, confirmed_on_text: str) -> str:
    """What the recipient reads before and when opening it."""
    return (
        f"Entered by your facilitator on behalf of the {side_lower}, who does not use this "
        f"portal. It was confirmed {how.phrase} on {confirmed_on_text}."
    )


def revision_confirmation_refusal(confirmed_on: date, returned_on: date, today: date) -> str | None:
    """Why this date cannot be their confirmation of a revision (a sentence), or None. The
    changed words must be confirmed afresh: on or after the day it was returned for changes."""
    refusal = confirmation_refusal(confirmed_on, today)
    if refusal is not None:
        return refusal
    if confirmed_on < returned_on:
        return (
            "That date is before it was returned for changes. Enter the date they confirmed "
            "the changed version."
        )
    return None
