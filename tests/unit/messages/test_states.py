"""The state machine alone: table checks and a stateful property test over random sequences."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from portal.cases.models import CaseCondition
from portal.messages.states import (
    DELETABLE,
    FINAL_STATES,
    QUEUE_FILTERS,
    RECIPIENT_GRANT_STATES,
    REVIEW_DECISIONS,
    STOPPING_ACTIONS,
    Action,
    Approvals,
    AuthorActions,
    CaseNotMoving,
    ClaimHolder,
    MessageState,
    NeedsTwoApprovals,
    NotAllowedNow,
    RecipientChoices,
    TransitionError,
    allowed_actions,
    author_actions,
    recipient_choices,
    recipient_may_read,
    review_actions,
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


def test_queue_filters_waiting_reviewing_second_and_all() -> None:
    assert QUEUE_FILTERS["waiting"] == {S.SUBMITTED, S.IN_REVIEW, S.APPROVED_ONCE}
    assert QUEUE_FILTERS["reviewing"] == {S.IN_REVIEW}
    assert QUEUE_FILTERS["second"] == {S.APPROVED_ONCE}
    assert QUEUE_FILTERS["all"] == set(MessageState)


def test_deletable_states_can_never_reach_the_recipient() -> None:
    assert {S.WITHDRAWN, S.DECLINED, S.WITHHELD} == DELETABLE
    assert DELETABLE <= FINAL_STATES
    assert DELETABLE.isdisjoint(RECIPIENT_GRANT_STATES)


HIGH_RISK = Approvals(high_risk=True)
FIRST_APPROVER = Approvals(high_risk=True, first_approver=True)


def test_high_risk_case_releases_only_after_two_different_facilitators() -> None:
    with pytest.raises(NeedsTwoApprovals):
        transition(S.IN_REVIEW, Action.APPROVE, CaseCondition.OPEN, HIGH_RISK)
    state = transition(S.IN_REVIEW, Action.APPROVE_ONCE, CaseCondition.OPEN, HIGH_RISK)
    assert state is S.APPROVED_ONCE
    assert state not in RECIPIENT_GRANT_STATES  # no grant for the recipient exists yet
    with pytest.raises(NeedsTwoApprovals):
        transition(state, Action.APPROVE, CaseCondition.OPEN, FIRST_APPROVER)
    assert transition(state, Action.APPROVE, CaseCondition.OPEN, HIGH_RISK) is (
        S.AWAITING_RECIPIENT
    )


def test_first_approver_can_neither_return_nor_withhold_their_own_first_approval() -> None:
    for action in (Action.RETURN, Action.WITHHOLD):
        with pytest.raises(NeedsTwoApprovals):
            transition(S.APPROVED_ONCE, action, CaseCondition.OPEN, FIRST_APPROVER)
    assert transition(S.APPROVED_ONCE, Action.RETURN, CaseCondition.OPEN, HIGH_RISK) is (S.RETURNED)


def test_a_case_that_is_not_high_risk_has_no_first_of_two_approvals() -> None:
    with pytest.raises(NotAllowedNow):
        transition(S.IN_REVIEW, Action.APPROVE_ONCE, CaseCondition.OPEN)


def test_an_item_waiting_for_a_second_approval_still_needs_one_after_unmarking() -> None:
    # The first approval was given on the footing of two; it never becomes a release alone.
    assert allowed_actions(S.APPROVED_ONCE, CaseCondition.OPEN) >= {Action.APPROVE}
    with pytest.raises(NeedsTwoApprovals):
        transition(S.APPROVED_ONCE, Action.APPROVE, CaseCondition.OPEN, Approvals(False, True))


def test_waiting_for_a_second_approval_can_be_withdrawn_but_not_moved_while_paused() -> None:
    assert transition(S.APPROVED_ONCE, Action.WITHDRAW, CaseCondition.PAUSED) is S.WITHDRAWN
    with pytest.raises(CaseNotMoving):
        transition(S.APPROVED_ONCE, Action.APPROVE, CaseCondition.PAUSED, HIGH_RISK)


C = CaseCondition
H = ClaimHolder
DECIDE = {Action.RELEASE_CLAIM, Action.APPROVE, Action.RETURN, Action.WITHHOLD}
DECIDE_FIRST = {Action.RELEASE_CLAIM, Action.APPROVE_ONCE, Action.RETURN, Action.WITHHOLD}
SECOND = {Action.APPROVE, Action.RETURN, Action.WITHHOLD}


@pytest.mark.parametrize(
    ("state", "claim", "approvals", "expected"),
    [
        # High-risk: the reviewer's approval is the first of two.
        (S.IN_REVIEW, H.ME, HIGH_RISK, DECIDE_FIRST),
        (S.IN_REVIEW, H.SOMEONE_ELSE, HIGH_RISK, set()),
        # Waiting for a second approval: any other facilitator of the case decides, unclaimed.
        (S.APPROVED_ONCE, H.NOBODY, HIGH_RISK, SECOND),
        (S.APPROVED_ONCE, H.NOBODY, Approvals(high_risk=False), SECOND),
        # The first approver is offered nothing: the same facilitator twice never counts.
        (S.APPROVED_ONCE, H.NOBODY, FIRST_APPROVER, set()),
    ],
)
def test_review_actions_with_two_person_approval(
    state: MessageState, claim: ClaimHolder, approvals: Approvals, expected: set[Action]
) -> None:
    assert review_actions(state, C.OPEN, claim, approvals) == expected


@pytest.mark.parametrize(
    ("state", "case", "claim", "expected"),
    [
        # A waiting letter: whoever opens the review page claims it, while the case is open.
        (S.SUBMITTED, C.OPEN, H.NOBODY, {Action.CLAIM}),
        (S.SUBMITTED, C.PAUSED, H.NOBODY, set()),
        (S.SUBMITTED, C.CLOSED, H.NOBODY, set()),
        # Being reviewed: the claim holder decides (or stops reviewing); nobody else can.
        (S.IN_REVIEW, C.OPEN, H.ME, DECIDE),
        (S.IN_REVIEW, C.OPEN, H.SOMEONE_ELSE, set()),
        (S.IN_REVIEW, C.OPEN, H.NOBODY, set()),
        (S.IN_REVIEW, C.PAUSED, H.ME, set()),
        # Held at the recipient's request: any of the case's facilitators may offer it again.
        (S.HELD, C.OPEN, H.NOBODY, {Action.RESUME}),
        (S.HELD, C.OPEN, H.SOMEONE_ELSE, {Action.RESUME}),
        (S.HELD, C.PAUSED, H.NOBODY, set()),
        # Nothing left to decide.
        (S.RETURNED, C.OPEN, H.NOBODY, set()),
        (S.AWAITING_RECIPIENT, C.OPEN, H.ME, set()),
        (S.OPENED, C.OPEN, H.ME, set()),
        (S.WITHHELD, C.OPEN, H.ME, set()),
    ],
)
def test_review_actions_follow_state_case_and_claim(
    state: MessageState, case: CaseCondition, claim: ClaimHolder, expected: set[Action]
) -> None:
    assert review_actions(state, case, claim) == expected


@pytest.mark.parametrize("state", list(MessageState))
@pytest.mark.parametrize("case", list(CaseCondition))
@pytest.mark.parametrize("claim", list(ClaimHolder))
@pytest.mark.parametrize("approvals", [Approvals(), HIGH_RISK, FIRST_APPROVER])
def test_review_actions_are_moves_the_state_machine_allows(
    state: MessageState, case: CaseCondition, claim: ClaimHolder, approvals: Approvals
) -> None:
    offered = review_actions(state, case, claim, approvals)
    assert offered <= allowed_actions(state, case, approvals)
    assert offered <= REVIEW_DECISIONS | {Action.CLAIM, Action.RESUME}
    if claim is not ClaimHolder.ME and state is not S.APPROVED_ONCE:
        assert offered.isdisjoint(REVIEW_DECISIONS)
    if approvals.first_approver:
        assert Action.APPROVE not in offered


@pytest.mark.parametrize(
    ("state", "case", "deleted", "expected"),
    [
        (S.SUBMITTED, C.OPEN, False, AuthorActions(withdraw=True, revise=False, delete=False)),
        (S.RETURNED, C.OPEN, False, AuthorActions(withdraw=True, revise=True, delete=False)),
        # Paused: revising waits, withdrawing never does.
        (S.RETURNED, C.PAUSED, False, AuthorActions(withdraw=True, revise=False, delete=False)),
        (S.AWAITING_RECIPIENT, C.CLOSED, False, AuthorActions(True, False, False)),
        (S.OPENED, C.OPEN, False, AuthorActions(withdraw=False, revise=False, delete=False)),
        (S.WITHDRAWN, C.OPEN, False, AuthorActions(withdraw=False, revise=False, delete=True)),
        (S.DECLINED, C.CLOSED, False, AuthorActions(withdraw=False, revise=False, delete=True)),
        (S.WITHHELD, C.OPEN, True, AuthorActions(withdraw=False, revise=False, delete=False)),
    ],
)
def test_author_actions_on_the_letter_page(
    state: MessageState, case: CaseCondition, deleted: bool, expected: AuthorActions
) -> None:
    assert author_actions(state, case, content_deleted=deleted) == expected


def choices(**offered: bool) -> RecipientChoices:
    return RecipientChoices(
        **{name: offered.get(name, False) for name in RecipientChoices.__dataclass_fields__}
    )


@pytest.mark.parametrize(
    ("state", "case", "expected"),
    [
        (S.AWAITING_RECIPIENT, C.OPEN, choices(open=True, not_yet=True, hold=True, decline=True)),
        # Paused: nothing moves towards them, but they may always ask for it to be held.
        (S.AWAITING_RECIPIENT, C.PAUSED, choices(not_yet=True, hold=True)),
        (S.AWAITING_RECIPIENT, C.CLOSED, choices()),
        (S.HELD, C.OPEN, choices(decline=True)),
        (S.HELD, C.PAUSED, choices()),
        # Opened before: reading again moves nothing, so even a closed case allows it.
        (S.OPENED, C.OPEN, choices(read_again=True)),
        (S.OPENED, C.CLOSED, choices(read_again=True)),
        (S.DECLINED, C.OPEN, choices()),
    ],
)
def test_recipient_choices_on_the_inbox_page(
    state: MessageState, case: CaseCondition, expected: RecipientChoices
) -> None:
    assert recipient_choices(state, case) == expected


@pytest.mark.parametrize("state", list(MessageState))
@pytest.mark.parametrize("case", list(CaseCondition))
def test_recipient_choices_are_moves_the_state_machine_allows(
    state: MessageState, case: CaseCondition
) -> None:
    offered = recipient_choices(state, case)
    allowed = allowed_actions(state, case)
    assert offered.open == (Action.OPEN in allowed)
    assert not offered.hold or Action.HOLD in allowed
    assert not offered.decline or Action.DECLINE in allowed
    # Reading again is only ever offered for what they chose to open.
    assert not offered.read_again or recipient_may_read(state)


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
        self.high_risk = False
        self.first_approver: str | None = None
        self.released_by: tuple[str | None, str] | None = None
        self.high_risk_at_review = False

    @rule(condition=st.sampled_from(CaseCondition))
    def case_changes(self, condition: CaseCondition) -> None:
        self.case = condition

    @rule(high_risk=st.booleans())
    def case_marked(self, high_risk: bool) -> None:
        self.high_risk = high_risk

    @rule(action=st.sampled_from(Action), who=st.sampled_from(["ana", "ben", "cy"]))
    def someone_acts(self, action: Action, who: str) -> None:
        before = self.state
        approvals = Approvals(self.high_risk, first_approver=who == self.first_approver)
        try:
            after = transition(before, action, self.case, approvals)
        except TransitionError:
            assert self.state is before
            return
        if action is Action.APPROVE_ONCE:
            self.first_approver = who
        if action is Action.APPROVE:
            self.released_by = (self.first_approver, who)
            self.high_risk_at_review = self.high_risk or before is S.APPROVED_ONCE
        if action in {Action.REVISE, Action.RETURN}:
            self.first_approver = None
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
    def high_risk_release_needs_two_different_facilitators(self) -> None:
        if self.released_by is not None and self.high_risk_at_review:
            first, second = self.released_by
            assert first is not None
            assert first != second

    @invariant()
    def withdrawn_or_withheld_never_reach_the_recipient(self) -> None:
        if self.ever_withdrawn_or_withheld:
            assert not self.reached_recipient


MessageLife.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_message_life = MessageLife.TestCase
