"""One page of a long list: every list a page shows is cut into pages in SQL (LIMIT and
OFFSET over an ordered query, with the total counted by the database in the same statement),
so a page costs the same few statements and the same time however much the service holds.

The page number comes from the address (``?page=3``). Anything that is not a page number
(missing, not a number, zero or less) shows the first page, and a number past the end shows
the last: someone who follows an old link, or types a number, lands on a real page, never on
an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
U = TypeVar("U")
# Longer than any list is long: a number past it is treated like any number past the end.
LONGEST = 1_000_000


def page_number(raw: str | None) -> int:
    """The page asked for, 1 if none or not a page number."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(LONGEST)):
        return 1
    return max(1, min(int(raw), LONGEST))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # 1-based, within 1..pages
    size: int
    total: int  # items in the whole list

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def first_shown(self) -> int:
        """The position (from 1) of the first item on this page; 0 if the list is empty."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_shown(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    def map(self, change: Callable[[T], U]) -> Page[U]:
        return Page([change(item) for item in self.items], self.number, self.size, self.total)

    def with_items(self, items: Sequence[U]) -> Page[U]:
        return Page(items, self.number, self.size, self.total)


def count(db: Session, query: Select[Any], params: Mapping[str, Any] | None = None) -> int:
    """How many rows ``query`` gives, counted by the database (``params``: its bound values)."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(db.scalar(counted, params) or 0)


def _bounded(total: int, number: int, size: int) -> int:
    return min(number, max(1, math.ceil(total / size)))


def scalars_page(
    db: Session,
    query: Select[T],
    number: int,
    size: int,
    params: Mapping[str, Any] | None = None,
) -> Page[T]:
    """One page of an ordered query of one entity or column (see :func:`rows_page`)."""
    return rows_page(db, query, number, size, params).map(lambda row: row[0])


def rows_page(
    db: Session,
    query: Select[*tuple[Any, ...]],
    number: int,
    size: int,
    params: Mapping[str, Any] | None = None,
) -> Page[tuple[Any, ...]]:
    """One page of an ordered query, each item a row of its columns, and the length of the
    whole list, in one statement: the length comes with each row (``count(*) OVER ()``,
    counted by the database over the whole list before LIMIT and OFFSET cut it), so the list is
    read once, not once to count it and again to cut it. Only a page past the end (an old link,
    a typed number) takes two more statements: the count, then the last page. ``params`` are
    the query's bound values, for a statement built once with ``bindparam``s."""
    rows = db.execute(
        query.add_columns(func.count().over()).limit(size).offset((number - 1) * size), params
    ).all()
    if rows:
        return Page([tuple(row)[:-1] for row in rows], number, size, int(rows[0][-1]))
    if number == 1:
        return Page([], 1, size, 0)
    total = count(db, query, params)
    number = _bounded(total, number, size)
    last = query.limit(size).offset((number - 1) * size)
    items = [tuple(row) for row in db.execute(last, params).all()] if total else []
    return Page(items, number, size, total)
