"""What the outcome counts as exchanged (portal/casework/outcome.py): pure folding of counts."""

from __future__ import annotations

from portal.cases.models import Format, Side
from portal.casework.outcome import KindCount, exchanged
from portal.messages.states import MessageState


def test_a_withdrawn_message_is_counted_as_withdrawn_not_as_sent() -> None:
    harmed, responsible = exchanged(
        [
            (Side.PERSON_RESPONSIBLE, Format.LETTER, False, MessageState.OPENED, 1),
            (Side.PERSON_RESPONSIBLE, Format.LETTER, False, MessageState.WITHDRAWN, 2),
            (Side.PERSON_RESPONSIBLE, Format.LETTER, False, MessageState.WITHHELD, 1),
            (Side.PERSON_RESPONSIBLE, Format.AUDIO, False, MessageState.AWAITING_RECIPIENT, 1),
        ]
    )
    assert harmed.from_side is Side.PERSON_HARMED
    assert harmed.kinds == []
    assert responsible.kinds == [
        KindCount("Written letters", sent=2, withdrawn=2, passed_on=1, opened=1),
        KindCount("Audio recordings", sent=1, withdrawn=0, passed_on=1, opened=0),
    ]


def test_scanned_letters_are_a_kind_of_their_own() -> None:
    harmed, _ = exchanged([(Side.PERSON_HARMED, Format.LETTER, True, MessageState.SUBMITTED, 3)])
    scanned = KindCount("Scanned letters", sent=3, withdrawn=0, passed_on=0, opened=0)
    assert harmed.kinds == [scanned]
