"""portal/paging.py: page numbers from the address, and the page arithmetic."""

from __future__ import annotations

import pytest

from portal.paging import LONGEST, Page, page_number


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (None, 1),
        ("", 1),
        ("1", 1),
        ("7", 7),
        ("0", 1),
        ("-2", 1),
        ("2.5", 1),
        ("abc", 1),
        (" 3", 1),
        ("٣", 1),  # an Arabic-Indic three: isdigit, but not what a pager link sends
        ("9" * 7, LONGEST),
        ("9" * 400, 1),
    ],
)
def test_page_number_from_the_address(raw: str | None, number: int) -> None:
    assert page_number(raw) == number


def test_a_middle_page_links_both_ways() -> None:
    page = Page(items=list(range(10)), number=2, size=10, total=25)
    assert (page.pages, page.previous, page.next) == (3, 1, 3)
    assert (page.first_shown, page.last_shown) == (11, 20)


def test_an_empty_list_is_one_empty_page() -> None:
    page: Page[int] = Page(items=[], number=1, size=10, total=0)
    assert (page.pages, page.previous, page.next, page.first_shown) == (1, None, None, 0)
