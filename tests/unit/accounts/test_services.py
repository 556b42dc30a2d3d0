"""Account rules that need no database."""

from __future__ import annotations

import pytest

from portal.accounts.services import normalize_name, validate_name
from portal.errors import BadInput


@pytest.mark.parametrize("name", ["अनिता", "தமிழ்", "José María", "o'neill", "kim-2026", "Zoë"])
def test_names_in_any_script_are_accepted(name: str) -> None:
    assert validate_name(name) == normalize_name(name)


@pytest.mark.parametrize(
    "name", ["ab", "a" * 65, "semi;colon", "back\\slash", "<script>", "at@sign"]
)
def test_odd_names_are_refused_at_the_field(name: str) -> None:
    with pytest.raises(BadInput) as refused:
        validate_name(name)
    assert refused.value.field == "sign_in_name"


def test_names_compare_without_case_width_or_extra_spaces() -> None:
    full_width_s = "\uff33"
    assert normalize_name(f"  {full_width_s}am   SMITH ") == "sam smith"
