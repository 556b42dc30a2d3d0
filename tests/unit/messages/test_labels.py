"""Words for messages: what a message is called in headings and confirmations."""

from __future__ import annotations

import pytest

from portal.cases.models import Format
from portal.messages.labels import MessageNoun, format_noun, format_nouns, message_noun, this_noun


@pytest.mark.parametrize(
    ("format_", "pages", "noun"),
    [
        (Format.LETTER, None, "letter"),
        (Format.LETTER, 0, "letter"),
        (Format.LETTER, 2, "scanned pages"),
        (Format.AUDIO, None, "audio recording"),
        (Format.VIDEO, None, "video recording"),
        # Pages sent with a recording: it is the recording people will be asked about.
        (Format.VIDEO, 3, "video recording"),
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


def test_this_points_at_one_thing_and_these_at_pages() -> None:
    assert this_noun("video recording") == "this video recording"
    assert this_noun("scanned pages") == "these scanned pages"
