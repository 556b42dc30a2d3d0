"""The report's charts as SVG element data: pure, no database, no markup (the Jinja template
``staff/_chart.html`` draws each as an SVG with a ``<title>``, a ``<desc>`` and a table beside
it).

A horizontal bar chart per figure: each bar's label on a line of its own above the bar (so the
chart reads on a 320 px phone), its length proportional to the largest count shown, its value
written after it. A count held back ("fewer than 5") is written in words and drawn with no bar at
all: a length, however short, would give the count away. Colours are CSS classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portal.reports.figures import (
    ALL_ANSWERS,
    SATISFACTION_QUESTIONS,
    SMALLEST_SHOWN,
    Report,
    satisfaction_figure,
    shown,
)

WIDTH = 320  # viewBox units; the SVG scales to its box
BAR_MAX = 190  # leaves room after the longest bar for its value in words
ROW = 48  # label line + bar + gap
LABEL_BASELINE = 16
BAR_TOP = 22
BAR_HEIGHT = 16
VALUE_GAP = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # written after the bar
    detail: str  # the table's words for it (the report's own)
    length: float  # 0 when held back: no bar is drawn
    top: int  # y of this bar's row

    @property
    def label_y(self) -> int:
        return self.top + LABEL_BASELINE

    @property
    def bar_y(self) -> int:
        return self.top + BAR_TOP

    @property
    def value_x(self) -> float:
        return self.length + VALUE_GAP

    @property
    def value_y(self) -> int:
        return self.top + BAR_TOP + BAR_HEIGHT - 3

    @property
    def no_bar(self) -> bool:
        return self.length == 0


@dataclass(frozen=True)
class Chart:
    figure: str  # the report's figure it draws (Row.figure)
    slug: str  # unique on the page: the SVG's title and desc ids
    title: str
    description: str
    column: str  # the table's value heading
    bars: tuple[Bar, ...]
    tone: str = "count"  # CSS class suffix: count | share
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * ROW


@dataclass(frozen=True)
class Value:
    label: str
    value: str
    magnitude: float | None  # None: held back, no bar
    detail: str = ""


def _bars(values: Sequence[Value], scale: float) -> tuple[Bar, ...]:
    return tuple(
        Bar(
            label=v.label,
            value=v.value,
            detail=v.detail or v.value,
            length=round(BAR_MAX * v.magnitude / scale, 1) if v.magnitude and scale else 0,
            top=index * ROW,
        )
        for index, v in enumerate(values)
    )


def _describe(title: str, values: Sequence[Value]) -> str:
    parts = [f"{v.label}: {v.detail or v.value}" for v in values]
    return f"Bar chart of {title[0].lower()}{title[1:]}. " + (
        "; ".join(parts) + "." if parts else "Nothing was counted."
    )


def count_chart(figure: str, slug: str, title: str, counts: Iterable[tuple[str, int]]) -> Chart:
    """Counts, each as the report shows it; a bar only for a count that is shown."""
    values = [
        Value(label, shown(count), float(count) if count >= SMALLEST_SHOWN else None)
        for label, count in counts
    ]
    scale = max((v.magnitude for v in values if v.magnitude is not None), default=0.0)
    return Chart(figure, slug, title, _describe(title, values), "Count", _bars(values, scale))


def _totals(pairs: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for key, count in pairs:
        totals[key] = totals.get(key, 0) + count
    return sorted(totals.items())


def charts_for(report: Report) -> list[Chart]:
    """The page's charts, in the order of its figures."""
    by_month = {month: 0 for month in report.period.months()}
    for (month, _source), count in report.referrals.items():
        by_month[month] = by_month.get(month, 0) + count
    by_source = _totals((source, n) for (_month, source), n in report.referrals.items())
    stages = "Cases referred in the period, by stage now"
    return [
        count_chart("Referrals", "referrals-month", "Referrals by month", by_month.items()),
        count_chart("Referrals", "referrals-source", "Referrals by source", by_source),
        count_chart(stages, "stages", stages, report.stages.items()),
        count_chart("Cases closed, by reason", "closed", "How cases closed", report.closed.items()),
        count_chart("Messages sent, by format", "formats", "Formats used", report.formats.items()),
        *satisfaction_charts(report),
    ]


def satisfaction_charts(report: Report) -> list[Chart]:
    """For each feedback question, the share who said yes in each group large enough to show;
    a group held back is written in words, with no bar."""
    said = report.satisfaction
    charts = []
    for number, question in enumerate(SATISFACTION_QUESTIONS, start=1):
        values = []
        for group in (ALL_ANSWERS, *said.groups):
            released = said.released(question, group)
            words = said.value(question, group)
            if released is None:
                values.append(Value(group, words, None))
            else:
                short = f"{released.percent}% of {released.answered}"
                values.append(Value(group, short, float(released.percent), detail=words))
        title = f"{question}: the share who said yes"
        charts.append(
            Chart(
                satisfaction_figure(question),
                f"satisfaction-{number}",
                title,
                _describe(title, values),
                "Said yes",
                _bars(values, 100.0),
                tone="share",
            )
        )
    return charts
