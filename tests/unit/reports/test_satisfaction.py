"""portal/reports/figures.py Satisfaction: participants' feedback is released only in groups of
at least the threshold, and the total never gives a small group away by subtraction."""

from __future__ import annotations

from datetime import date

from portal.reports.figures import (
    ALL_ANSWERS,
    HELD_BACK,
    SATISFACTION_QUESTIONS,
    Period,
    Report,
    Said,
    Satisfaction,
    satisfaction_figure,
)

SATISFIED = SATISFACTION_QUESTIONS[0]
GROUPS = ("Person harmed", "Person responsible", "Supporter")


def of(said: dict[str, Said], smallest: int = 5) -> Satisfaction:
    return Satisfaction({(SATISFIED, g): s for g, s in said.items()}, GROUPS, smallest)


def test_a_group_of_enough_answers_shows_its_share_with_counts() -> None:
    figures = of({"Person harmed": Said(yes=4, answered=5), "Person responsible": Said(6, 8)})
    assert figures.value(SATISFIED, "Person harmed") == "80% said yes (4 of 5)"
    assert figures.value(SATISFIED, "Person responsible") == "75% said yes (6 of 8)"
    assert figures.value(SATISFIED, ALL_ANSWERS) == "77% said yes (10 of 13)"
    assert figures.value(SATISFIED, "Supporter") == "fewer than 5 answers"  # nobody answered


def test_a_group_under_the_threshold_is_held_back_whatever_the_threshold() -> None:
    figures = of({"Person harmed": Said(4, 4)})
    assert figures.released(SATISFIED, "Person harmed") is None
    assert figures.value(SATISFIED, "Person harmed") == "fewer than 5 answers"
    stricter = of({"Person harmed": Said(7, 9)}, smallest=10)
    assert stricter.value(SATISFIED, "Person harmed") == "fewer than 10 answers"
    assert stricter.value(SATISFIED, ALL_ANSWERS) == "fewer than 10 answers"
    assert of({"Person harmed": Said(7, 10)}, smallest=10).released(
        SATISFIED, "Person harmed"
    ) == Said(7, 10)


def test_the_total_is_held_back_when_it_would_give_one_small_group_away() -> None:
    # 8 people harmed are shown; all 11 would then say that 3 supporters answered, and how.
    figures = of({"Person harmed": Said(6, 8), "Supporter": Said(1, 3)})
    assert figures.value(SATISFIED, "Person harmed") == "75% said yes (6 of 8)"
    assert figures.value(SATISFIED, "Supporter") == "fewer than 5 answers"
    assert figures.released(SATISFIED, ALL_ANSWERS) is None
    assert figures.value(SATISFIED, ALL_ANSWERS) == HELD_BACK


def test_the_total_is_shown_when_the_groups_held_back_make_a_group_large_enough() -> None:
    figures = of(
        {"Person harmed": Said(6, 8), "Person responsible": Said(2, 3), "Supporter": Said(1, 2)}
    )
    # Subtracting tells only the 5 held back together: a group as large as any shown.
    assert figures.released(SATISFIED, ALL_ANSWERS) == Said(9, 13)
    # Only small groups: all of them together are one group, shown once large enough.
    assert of({"Person harmed": Said(2, 3), "Supporter": Said(2, 2)}).released(
        SATISFIED, ALL_ANSWERS
    ) == Said(4, 5)


def test_every_question_and_group_is_a_row_of_the_report() -> None:
    period = Period(date(2027, 1, 1), date(2027, 1, 31))
    rows = Report(period, satisfaction=of({"Person harmed": Said(5, 5)})).rows()
    feedback = [r for r in rows if r.figure.startswith("Participants' feedback")]
    assert len(feedback) == len(SATISFACTION_QUESTIONS) * (1 + len(GROUPS))
    assert feedback[0].figure == satisfaction_figure(SATISFIED)
    assert (feedback[0].group, feedback[0].value) == (ALL_ANSWERS, "100% said yes (5 of 5)")
    # An answer that skipped a question is not counted for it.
    assert feedback[len(GROUPS) + 1].value == "fewer than 5 answers"
