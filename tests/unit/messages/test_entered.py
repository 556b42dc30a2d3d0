"""The pure rules and words of messages entered for a participant without access."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.messages.entered import (
    OLDEST_CONFIRMATION,
    ConfirmedHow,
    confirmation_refusal,
    day_text,
    recipient_label,
    revision_confirmation_refusal,
    staff_label,
)

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("on", [TODAY, TODAY - timedelta(days=1), TODAY - OLDEST_CONFIRMATION])
def test_a_confirmation_from_today_back_to_a_year_ago_is_accepted(on: date) -> None:
    assert confirmation_refusal(on, TODAY) is None


def test_a_confirmation_in_the_future_or_long_ago_is_refused_in_words() -> None:
    assert confirmation_refusal(TODAY + timedelta(days=1), TODAY) == (
        "The date they confirmed it cannot be in the future."
    )
    refusal = confirmation_refusal(TODAY - OLDEST_CONFIRMATION - timedelta(days=1), TODAY)
    assert refusal is not None
    assert "more than a year ago" in refusal


def test_every_way_of_confirming_has_a_choice_and_a_phrase() -> None:
    for how in ConfirmedHow:
        assert how.label
        assert how.phrase


def test_the_labels_name_who_entered_it_and_for_which_side() -> None:
    assert staff_label("sam.jones", "person responsible") == (
        "Entered by sam.jones for the person responsible"
    )
    assert recipient_label(
        "person responsible", ConfirmedHow.SIGNED_PAPER, day_text(date(2026, 3, 3))
    ) == (
        "Entered by your facilitator on behalf of the person responsible, who does not use "
        "this portal. It was confirmed by their signature on the paper copy on 3 March 2026."
    )


def test_a_revision_is_confirmed_on_or_after_the_day_it_was_returned() -> None:
    returned = TODAY - timedelta(days=3)
    assert revision_confirmation_refusal(returned, returned, TODAY) is None
    assert revision_confirmation_refusal(TODAY, returned, TODAY) is None
    refusal = revision_confirmation_refusal(returned - timedelta(days=1), returned, TODAY)
    assert refusal is not None
    assert "before it was returned" in refusal
    # The ordinary limits still apply first.
    future = revision_confirmation_refusal(TODAY + timedelta(days=1), returned, TODAY)
    assert future == "The date they confirmed it cannot be in the future."
