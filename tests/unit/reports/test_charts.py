"""portal/reports/charts.py: a chart's bars say what the report says, and a count held back is
words with no bar whose length could give it away."""

from __future__ import annotations

from datetime import date

from portal.reports.charts import BAR_MAX, ROW, charts_for, count_chart
from portal.reports.figures import (
    ALL_ANSWERS,
    FEWER,
    SATISFACTION_QUESTIONS,
    Period,
    Report,
    Said,
    Satisfaction,
)

JANUARY_TO_MARCH = Period(date(2027, 1, 1), date(2027, 3, 31))


def test_bars_scale_to_the_largest_count_shown_and_small_counts_have_none() -> None:
    chart = count_chart("Figure", "f", "Things", [("a", 10), ("b", 5), ("c", 4), ("d", 0)])
    assert [(b.label, b.value, b.length) for b in chart.bars] == [
        ("a", "10", BAR_MAX),
        ("b", "5", BAR_MAX / 2),
        ("c", FEWER, 0),
        ("d", FEWER, 0),
    ]
    assert [b.no_bar for b in chart.bars] == [False, False, True, True]
    assert [b.top for b in chart.bars] == [0, ROW, 2 * ROW, 3 * ROW]
    assert chart.height == 4 * ROW
    assert chart.description == (
        "Bar chart of things. a: 10; b: 5; c: fewer than 5; d: fewer than 5."
    )


def test_a_chart_of_only_small_counts_draws_no_bar_at_all() -> None:
    chart = count_chart("Figure", "f", "Things", [("a", 4), ("b", 1)])
    assert all(bar.no_bar for bar in chart.bars)
    assert "4" not in chart.description
    assert "1" not in chart.description


def test_the_report_has_a_chart_per_figure_the_issue_names() -> None:
    report = Report(
        JANUARY_TO_MARCH,
        referrals={("2027-01", "Police"): 6, ("2027-02", "Police"): 2, ("2027-02", "Prison"): 3},
        stages={"Referred": 7},
        closed={"Completed": 5},
        formats={"Letter": 9, "Audio recording": 1},
    )
    charts = {chart.slug: chart for chart in charts_for(report)}
    assert list(charts) == [
        "referrals-month",
        "referrals-source",
        "stages",
        "closed",
        "formats",
        "satisfaction-1",
        "satisfaction-2",
        "satisfaction-3",
    ]
    by_month = [(b.label, b.value) for b in charts["referrals-month"].bars]
    assert by_month == [("2027-01", "6"), ("2027-02", "5"), ("2027-03", FEWER)]
    by_source = [(b.label, b.value) for b in charts["referrals-source"].bars]
    assert by_source == [("Police", "8"), ("Prison", FEWER)]
    assert charts["formats"].bars[1].no_bar
    assert charts["closed"].figure == "Cases closed, by reason"


def test_satisfaction_bars_are_shares_and_held_back_groups_have_none() -> None:
    question = SATISFACTION_QUESTIONS[0]
    said = {(question, "Person harmed"): Said(3, 6), (question, "Supporter"): Said(2, 2)}
    groups = ("Person harmed", "Person responsible", "Supporter")
    report = Report(JANUARY_TO_MARCH, satisfaction=Satisfaction(said, groups))
    chart = next(c for c in charts_for(report) if c.slug == "satisfaction-1")
    bars = {bar.label: bar for bar in chart.bars}
    assert bars["Person harmed"].value == "50% of 6"
    assert bars["Person harmed"].detail == "50% said yes (3 of 6)"
    assert bars["Person harmed"].length == BAR_MAX / 2
    assert bars["Supporter"].no_bar
    assert bars["Supporter"].value == "fewer than 5 answers"
    assert bars[ALL_ANSWERS].no_bar  # 8 in all would give the 2 supporters away
    assert chart.tone == "share"
