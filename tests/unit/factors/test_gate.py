"""portal/factors/gate.py: what a session owes after the password, and what it may reach."""

from __future__ import annotations

import pytest

from portal.accounts import steps
from portal.accounts.models import Account, Role
from portal.accounts.sessions import Current
from portal.errors import SecondFactorDue
from portal.factors import gate


def _current(role: Role, due: str | None) -> Current:
    return Current("session", Account(role=role), 60, None, second_factor_due=due)


@pytest.mark.parametrize(
    ("role", "holds", "due"),
    [
        (Role.SERVICE_MANAGER, True, "verify"),
        (Role.FACILITATOR, False, "enrol"),
        (Role.PARTICIPANT, True, "verify"),
        (Role.PARTICIPANT, False, None),
        (Role.SUPPORTER, False, None),
    ],
)
def test_what_a_session_owes_after_the_password(role: Role, holds: bool, due: str | None) -> None:
    assert gate.due_after_password(Account(role=role), holds) == due


def test_a_session_owing_a_step_reaches_only_endpoints_that_allow_it() -> None:
    verifying = _current(Role.FACILITATOR, "verify")
    with pytest.raises(SecondFactorDue) as refused:
        gate.check(verifying, steps.NOTHING_DUE)
    assert refused.value.step == "verify"
    with pytest.raises(SecondFactorDue):
        gate.check(verifying, steps.WHILE_ENROLLING)
    gate.check(verifying, steps.WHILE_VERIFYING)
    gate.check(_current(Role.FACILITATOR, "enrol"), steps.WHILE_EITHER)


def test_a_session_owing_nothing_and_no_session_pass() -> None:
    gate.check(_current(Role.FACILITATOR, None), steps.NOTHING_DUE)
    gate.check(None, steps.NOTHING_DUE)
