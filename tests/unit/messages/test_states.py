"""The state machine alone: table checks and a stateful property test over random sequences."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from portal.cases.models import CaseCondition
from portal.messages.states import (
    FINAL_STATES,
    STOPPING_ACTIONS,
    Action,
    CaseNotMoving,
    MessageState,
    NotAllowedNow,
    TransitionError,
    allowed_actions,
    recipient_may_read,
    transition,
)

S = MessageState


def test_happy_path_reaches_opened() -> None:
    state = S.SUBMITTED
    for action in (Action.CLAIM, Action.APPROVE, Action.OPEN):
        state = transition(state, action, CaseCondition.OPEN)
    assert state is S.OPENED
    assert recipient_may_read(state)


def test_returned_letter_is_revised_into_the_queue() -> None:
    state = transition(S.IN_REVIEW, Action.RETURN, CaseCondition.OPEN)
    assert transition(state, Action.REVISE, CaseCondition.OPEN) is S.SUBMITTED


def test_opened_letter_cannot_be_withdrawn() -> None:
    with pytest.raises(NotAllowedNow):
        transition(S.OPENED, Action.WITHDRAW, CaseCondition.OPEN)


def test_paused_case_refuses_delivery_but_allows_withdrawal() -> None:
    with pytest.raises(CaseNotMoving):
        transition(S.AWAITING_RECIPIENT, Action.OPEN, CaseCondition.PAUSED)
    assert transition(S.AWAITING_RECIPIENT, Action.WITHDRAW, CaseCondition.PAUSED) is S.WITHDRAWN
    assert transition(S.AWAITING_RECIPIENT, Action.HOLD, CaseCondition.PAUSED) is S.HELD


def test_closed_case_allows_only_withdrawal() -> None:
    assert allowed_actions(S.AWAITING_RECIPIENT, CaseCondition.CLOSED) == {Action.WITHDRAW}


def test_final_states_allow_nothing() -> None:
    for state in FINAL_STATES:
        assert allowed_actions(state, CaseCondition.OPEN) == frozenset()


class MessageLife(RuleBasedStateMachine):
    """A message and its case under random moves; the invariants must hold after each."""

    def __init__(self) -> None:
        super().__init__()
        self.state = S.SUBMITTED
        self.case = CaseCondition.OPEN
        self.approved = False
        self.chose_to_open = False
        self.ever_withdrawn_or_withheld = False
        self.reached_recipient = False

    @rule(condition=st.sampled_from(CaseCondition))
    def case_changes(self, condition: CaseCondition) -> None:
        self.case = condition

    @rule(action=st.sampled_from(Action))
    def someone_acts(self, action: Action) -> None:
        before = self.state
        try:
            after = transition(before, action, self.case)
        except TransitionError:
            assert self.state is before
            return
        if self.case is not CaseCondition.OPEN:
            # A paused or closed case moves nothing towards delivery.
            assert action in STOPPING_ACTIONS
        if action is Action.APPROVE:
            self.approved = True
        if action is Action.REVISE:
            self.approved = False  # a new version needs a new approval
        if action is Action.OPEN:
            self.chose_to_open = True
        if after in {S.WITHDRAWN, S.WITHHELD}:
            self.ever_withdrawn_or_withheld = True
        self.state = after
        if recipient_may_read(self.state):
            self.reached_recipient = True

    @invariant()
    def readable_only_if_approved_and_chosen(self) -> None:
        if recipient_may_read(self.state):
            assert self.approved
            assert self.chose_to_open

    @invariant()
    def withdrawn_or_withheld_never_reach_the_recipient(self) -> None:
        if self.ever_withdrawn_or_withheld:
            assert not self.reached_recipient


MessageLife.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_message_life = MessageLife.TestCase
