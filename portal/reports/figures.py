"""The figures of a report, and the rules that make them safe to publish: pure, no database.

Every figure is a count of metadata (when a referral arrived and from what kind of referrer, the
stage a case reached and when, why it closed, a message's format, a withdrawal's side), never of
content. A count under ``SMALLEST_SHOWN`` is shown as "fewer than 5", so no figure points at one
person; a median is shown only over at least that many cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import median

SMALLEST_SHOWN = 5
FEWER = f"fewer than {SMALLEST_SHOWN}"


def shown(count: int) -> str:
    """A count as a report may show it."""
    return str(count) if count >= SMALLEST_SHOWN else FEWER


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included, in the service's time zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    def months(self) -> list[str]:
        """Each month the period touches, as "2027-03"."""
        found: list[str] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


@dataclass(frozen=True)
class Row:
    """One line of a report: a figure, the group it counts (or ""), and the value shown."""

    figure: str
    group: str
    value: str


@dataclass(frozen=True)
class Contact:
    """Time to first contact: working days from referral to first contact, per case."""

    working_days: Sequence[int]
    target: int  # working days

    def rows(self) -> list[Row]:
        count = len(self.working_days)
        rows = [Row("Time to first contact", "cases with a first contact", shown(count))]
        if count < SMALLEST_SHOWN:
            rows.append(Row("Time to first contact", "median working days", FEWER + " cases"))
            rows.append(Row("Time to first contact", "share within target", FEWER + " cases"))
            return rows
        within = sum(1 for days in self.working_days if days <= self.target)
        rows.append(
            Row("Time to first contact", "median working days", f"{median(self.working_days):g}")
        )
        rows.append(
            Row(
                "Time to first contact",
                f"share within {self.target} working days",
                f"{round(100 * within / count)}%",
            )
        )
        return rows


@dataclass(frozen=True)
class Report:
    period: Period
    referrals: dict[tuple[str, str], int] = field(default_factory=dict)  # (month, source)
    contact: Contact = field(default_factory=lambda: Contact((), 5))
    stages: dict[str, int] = field(default_factory=dict)  # current stage of cases referred
    closed: dict[str, int] = field(default_factory=dict)  # reason
    formats: dict[str, int] = field(default_factory=dict)  # messages sent
    withdrawals: dict[str, int] = field(default_factory=dict)  # side
    satisfaction: Satisfaction = field(default_factory=lambda: Satisfaction({}, ()))
    outcomes: dict[str, int] = field(default_factory=dict)  # see referral_outcomes

    def rows(self) -> list[Row]:
        """Every figure in order, each count already made safe to show."""
        rows = [Row("Period", "from", self.period.start.isoformat())]
        rows.append(Row("Period", "to", self.period.end.isoformat()))
        rows += _counted("Referrals", self._referral_groups())
        rows += self.contact.rows()
        rows += _counted("Cases referred in the period, by stage now", self.stages.items())
        rows += _counted("Cases closed, by reason", self.closed.items())
        rows += _counted("Messages sent, by format", self.formats.items())
        rows += _counted("Withdrawals, by side", self.withdrawals.items())
        rows += referral_outcomes(self.outcomes)
        rows += self.satisfaction.rows()
        return rows

    def _referral_groups(self) -> list[tuple[str, int]]:
        groups = [(f"{month} {source}", n) for (month, source), n in sorted(self.referrals.items())]
        by_month: dict[str, int] = {}
        for (month, _source), n in self.referrals.items():
            by_month[month] = by_month.get(month, 0) + n
        totals = [(f"{month} all", by_month.get(month, 0)) for month in self.period.months()]
        return [("all", sum(self.referrals.values())), *totals, *groups]


def referral_outcomes(outcomes: dict[str, int]) -> list[Row]:
    """Referrals received in the period by where triage took them: ``outcomes`` maps
    "accepted", "declined: <reason>", "more information asked for" and "not decided yet" to
    counts. Declines are also totalled, so a reason suppressed as under 5 still counts."""
    declined = sum(n for group, n in outcomes.items() if group.startswith("declined: "))
    groups = [(group, outcomes[group]) for group in sorted(outcomes)]
    return _counted("Referrals by outcome", [*groups, ("declined, all reasons", declined)])


def _counted(figure: str, groups: Iterable[tuple[str, int]]) -> list[Row]:
    return [Row(figure, group, shown(count)) for group, count in groups]


# ------------------------------------------------------------------ what participants thought

SATISFACTION_QUESTIONS = (
    "Satisfied with the process",
    "Would recommend the service",
    "Feels safer or better able to move on",
)
ALL_ANSWERS = "All who answered"
HELD_BACK = "not shown, to protect a small group"


def satisfaction_figure(question: str) -> str:
    return f"Participants' feedback: {question.lower()}"


@dataclass(frozen=True)
class Said:
    """How many answered a question in a group, and how many of them said yes."""

    yes: int
    answered: int

    @property
    def percent(self) -> int:
        return round(100 * self.yes / self.answered) if self.answered else 0


@dataclass(frozen=True)
class Satisfaction:
    """Participants' anonymous answers in the period: for each question, the share who said yes,
    for each role category (``groups``, in order) and for all of them together.

    A group is released only with at least ``smallest_group`` answers. All of them together is
    held back too while a single small group is held back, or it would give that group away by
    subtraction: it is released when the groups held back add up to nobody or to at least
    ``smallest_group`` answers themselves.
    """

    said: dict[tuple[str, str], Said]  # (question, group) -> what was said
    groups: Sequence[str]
    smallest_group: int = SMALLEST_SHOWN

    def released(self, question: str, group: str) -> Said | None:
        """What may be shown of this group's answers to ``question``; None if held back."""
        if group != ALL_ANSWERS:
            said = self.said.get((question, group), Said(0, 0))
            return said if said.answered >= self.smallest_group else None
        parts = [self.said.get((question, g), Said(0, 0)) for g in self.groups]
        held_back = sum(p.answered for p in parts if p.answered < self.smallest_group)
        everyone = Said(sum(p.yes for p in parts), sum(p.answered for p in parts))
        if everyone.answered < self.smallest_group:
            return None
        if 0 < held_back < self.smallest_group:
            return None
        return everyone

    def value(self, question: str, group: str) -> str:
        said = self.released(question, group)
        if said is None and group == ALL_ANSWERS and self._total(question) >= self.smallest_group:
            return HELD_BACK
        if said is None:
            return self.fewer
        return f"{said.percent}% said yes ({said.yes} of {said.answered})"

    def _total(self, question: str) -> int:
        return sum(self.said.get((question, g), Said(0, 0)).answered for g in self.groups)

    @property
    def fewer(self) -> str:
        return f"fewer than {self.smallest_group} answers"

    def rows(self) -> list[Row]:
        return [
            Row(satisfaction_figure(question), group, self.value(question, group))
            for question in SATISFACTION_QUESTIONS
            for group in (ALL_ANSWERS, *self.groups)
        ]
