"""The referral state machine alone (portal/referrals/states.py): every move in the table, every
refusal, and what each state offers."""

from __future__ import annotations

import itertools

import pytest

from portal.referrals.states import (
    DECIDED,
    TRANSITIONS,
    NotAllowedNow,
    ReferralState,
    TransitionError,
    TriageAction,
    allowed_actions,
    transition,
)

S, A = ReferralState, TriageAction


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (S.RECEIVED, A.ASK_MORE, S.MORE_INFO_ASKED),
        (S.RECEIVED, A.ACCEPT, S.ACCEPTED),
        (S.RECEIVED, A.DECLINE, S.DECLINED),
        (S.MORE_INFO_ASKED, A.ACCEPT, S.ACCEPTED),
        (S.MORE_INFO_ASKED, A.DECLINE, S.DECLINED),
    ],
)
def test_each_allowed_move_leads_where_the_table_says(
    state: ReferralState, action: TriageAction, after: ReferralState
) -> None:
    assert transition(state, action) is after


def test_every_other_move_is_refused_with_a_named_error() -> None:
    for state, action in itertools.product(S, A):
        if (state, action) in TRANSITIONS:
            continue
        with pytest.raises(NotAllowedNow) as refused:
            transition(state, action)
        assert isinstance(refused.value, TransitionError)
        assert refused.value.state is state
        assert refused.value.action is action
        assert refused.value.sentence


def test_a_decided_referral_offers_nothing_and_an_open_one_can_be_decided() -> None:
    for state in DECIDED:
        assert allowed_actions(state) == frozenset()
    assert allowed_actions(S.RECEIVED) == frozenset(A)
    assert allowed_actions(S.MORE_INFO_ASKED) == {A.ACCEPT, A.DECLINE}


def test_the_refusal_says_what_happened_first() -> None:
    with pytest.raises(NotAllowedNow) as refused:
        transition(S.DECLINED, A.ACCEPT)
    assert "already been declined" in refused.value.sentence
    with pytest.raises(NotAllowedNow) as asked:
        transition(S.MORE_INFO_ASKED, A.ASK_MORE)
    assert "already been asked" in asked.value.sentence
