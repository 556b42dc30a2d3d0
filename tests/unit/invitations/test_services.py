"""Invitation rules that need no database."""

from __future__ import annotations

from portal.invitations.services import normalize_code


def test_codes_forgive_case_dashes_and_lookalikes() -> None:
    assert normalize_code("abcd-efgh ijkl-mnop") == normalize_code("ABCDEFGH1JK1MN0P")
