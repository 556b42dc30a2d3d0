"""Words for messages (portal/messages/labels.py)."""

from __future__ import annotations

import pytest

from portal.cases.models import Format
from portal.messages.labels import MessageNoun, format_noun, format_nouns, message_noun


@pytest.mark.parametrize(
    ("format_", "pages", "noun"),
    [
        (Format.LETTER, None, "a letter"),
        (Format.AUDIO, None, "an audio recording"),
        (Format.VIDEO, None, "a video recording"),
        (Format.LETTER, 2, "scanned pages"),
        (Format.LETTER, 0, "a letter"),
        (Format.VIDEO, 2, "a video recording"),
    ],
)
def test_a_message_is_named_by_what_it_is(format_: Format, pages: int | None, noun: str) -> None:
    assert format_noun(format_, pages=pages) == noun


def test_every_form_of_the_name_agrees() -> None:
    assert message_noun(Format.AUDIO) == MessageNoun(
        "an audio recording", "the audio recording", "this audio recording"
    )
    assert message_noun(Format.LETTER, pages=3) == MessageNoun(
        "scanned pages", "the scanned pages", "these scanned pages"
    )
    assert format_nouns() == {
        "letter": "a letter",
        "audio": "an audio recording",
        "video": "a video recording",
    }
