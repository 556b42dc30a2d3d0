"""portal/cases/states.py: what may happen to a case and to its participants now."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from portal.cases.models import CaseCondition, CaseStage
from portal.cases.states import (
    HAS_FACILITATOR,
    KEY_CHANGE_FIRST,
    LAST_FACILITATOR,
    CaseAction,
    KeyStanding,
    ParticipantAction,
    ParticipantStanding,
    SupporterAction,
    SupporterStanding,
    TeamAction,
    TeamStanding,
    action_towards,
    case_actions,
    key_standing,
    next_stages,
    participant_actions,
    participant_refusal,
    reached_on_refusal,
    reader_grant_refusal,
    recipient_grant_refusal,
    stage_refusal,
    supporter_actions,
    supporter_refusal,
    team_refusal,
)

C = CaseCondition
A = ParticipantAction


def standing(
    *, joined: bool = False, withdrawn: bool = False, key: bool = False
) -> ParticipantStanding:
    return ParticipantStanding(joined=joined, withdrawn=withdrawn, holds_case_key=key)


@pytest.mark.parametrize(
    ("condition", "offered"),
    [
        (C.OPEN, [CaseAction.PAUSE, CaseAction.CLOSE]),
        (C.PAUSED, [CaseAction.RESUME, CaseAction.CLOSE]),
        (C.CLOSED, []),
    ],
)
def test_case_actions_are_those_the_table_allows_in_page_order(
    condition: CaseCondition, offered: list[CaseAction]
) -> None:
    assert case_actions(condition) == offered


def test_every_move_between_two_conditions_has_one_action_except_out_of_closed() -> None:
    for current, target in itertools.permutations(CaseCondition, 2):
        assert (action_towards(current, target) is None) == (current is C.CLOSED)
    assert action_towards(C.OPEN, C.OPEN) is None


def test_someone_not_yet_joined_may_be_invited_consent_recorded_and_entered_for() -> None:
    assert participant_actions(C.OPEN, standing()) == {A.INVITE, A.RECORD_CONSENT, A.ENTER_FOR}


def test_nobody_enters_for_someone_who_uses_the_portal() -> None:
    assert participant_refusal(C.OPEN, standing(joined=True), A.ENTER_FOR) == (
        "This person uses the portal, so they write their own letters."
    )


def test_someone_who_joined_without_the_case_key_is_to_be_given_it() -> None:
    assert participant_actions(C.PAUSED, standing(joined=True)) == {
        A.RECORD_CONSENT,
        A.MARK_VERIFIED,
        A.GIVE_CASE_KEY,
        A.REKEY,
    }
    assert A.GIVE_CASE_KEY not in participant_actions(C.OPEN, standing(joined=True, key=True))


@pytest.mark.parametrize("action", list(ParticipantAction))
def test_nothing_is_done_for_anyone_in_a_closed_case(action: ParticipantAction) -> None:
    assert participant_refusal(C.CLOSED, standing(joined=True), action) == "This case is closed."
    assert participant_actions(C.CLOSED, standing(joined=True)) == frozenset()


@pytest.mark.parametrize("action", list(ParticipantAction))
def test_nothing_is_done_for_someone_who_withdrew(action: ParticipantAction) -> None:
    refusal = participant_refusal(C.OPEN, standing(joined=True, withdrawn=True), action)
    assert refusal == "This person has withdrawn from the process."


def test_refusals_say_why_in_words() -> None:
    assert participant_refusal(C.OPEN, standing(joined=True), A.INVITE) == (
        "This person has already joined."
    )
    assert participant_refusal(C.OPEN, standing(), A.MARK_VERIFIED) == (
        "This person has not joined yet."
    )
    assert participant_refusal(C.OPEN, standing(), A.GIVE_CASE_KEY) == (
        "This person has not joined yet."
    )


# -- supporters and representatives -----------------------------------------------------------

S = SupporterAction


def place(
    *, joined: bool = False, revoked: bool = False, ended: bool = False, withdrawn: bool = False
) -> SupporterStanding:
    return SupporterStanding(joined=joined, revoked=revoked, ended=ended, side_withdrawn=withdrawn)


def test_a_place_not_joined_yet_can_be_invited_and_revoked_but_not_verified() -> None:
    assert supporter_actions(C.OPEN, place()) == {S.INVITE, S.REVOKE}


def test_a_joined_place_can_be_verified_re_keyed_and_revoked_but_not_invited_again() -> None:
    assert supporter_actions(C.OPEN, place(joined=True)) == {S.MARK_VERIFIED, S.REKEY, S.REVOKE}
    assert supporter_refusal(C.OPEN, place(), S.REKEY) == "This person has not joined yet."


@pytest.mark.parametrize("condition", [C.CLOSED, C.PAUSED, C.OPEN])
def test_access_can_always_be_taken_away_while_there_is_some(condition: CaseCondition) -> None:
    """Even in a closed case and after the participant withdrew: taking access away must
    always be possible."""
    assert S.REVOKE in supporter_actions(condition, place(joined=True, withdrawn=True))


@pytest.mark.parametrize("standing", [place(revoked=True), place(joined=True, ended=True)])
def test_nothing_more_happens_to_a_revoked_or_ended_place(standing: SupporterStanding) -> None:
    for condition in CaseCondition:
        assert supporter_actions(condition, standing) == frozenset()
        for action in SupporterAction:
            assert supporter_refusal(condition, standing, action)


def test_a_closed_case_or_a_withdrawn_side_stops_invitations_and_verification() -> None:
    for standing, words in [
        (place(), "closed"),
        (place(withdrawn=True), "withdrawn"),
    ]:
        condition = C.CLOSED if words == "closed" else C.OPEN
        refusal = supporter_refusal(condition, standing, S.INVITE)
        assert refusal is not None
        assert words in refusal


# -- keys that change -------------------------------------------------------------------------

K = KeyStanding
OLD, NEW = b"o" * 32, b"n" * 32


def test_a_key_is_verified_only_while_it_is_the_one_compared_in_person() -> None:
    assert key_standing(None, None) is K.NONE
    assert key_standing(NEW, None) is K.UNVERIFIED
    assert key_standing(NEW, NEW) is K.VERIFIED
    assert key_standing(NEW, OLD) is K.CHANGED


def test_a_changed_key_is_never_released_to_and_an_unverified_one_only_with_confirmation() -> None:
    """The browser asks the facilitator to confirm a key never compared (as before); a key
    that changed since it was compared is refused outright until it is compared again."""
    assert recipient_grant_refusal(K.VERIFIED) is None
    assert recipient_grant_refusal(K.UNVERIFIED) is None
    assert "changed since it was compared in person" in (recipient_grant_refusal(K.CHANGED) or "")
    assert recipient_grant_refusal(K.NONE) == "The recipient has not joined the portal yet."


@pytest.mark.parametrize("standing", [K.NONE, K.UNVERIFIED, K.CHANGED])
def test_readers_and_grants_again_go_only_to_a_key_compared_in_person(
    standing: KeyStanding,
) -> None:
    assert reader_grant_refusal(K.VERIFIED) is None
    assert reader_grant_refusal(standing) is not None


# ---- the team and its key epochs -------------------------------------------------------------

T = TeamAction


def team(
    facilitators: int = 2, *, pending: bool = False, active: int | None = None
) -> TeamStanding:
    return TeamStanding(
        facilitators=facilitators,
        key_change_pending=pending,
        active_facilitators=facilitators if active is None else active,
    )


@pytest.mark.parametrize("action", list(TeamAction))
def test_closed_case_team_never_changes(action: TeamAction) -> None:
    assert team_refusal(C.CLOSED, team(pending=True), action) == "This case is closed."


@pytest.mark.parametrize("condition", [C.OPEN, C.PAUSED])
def test_last_facilitator_cannot_leave_but_can_hand_over(condition: CaseCondition) -> None:
    assert team_refusal(condition, team(1), T.REMOVE) == LAST_FACILITATOR
    assert team_refusal(condition, team(1), T.HAND_OVER) is None
    assert team_refusal(condition, team(2), T.REMOVE) is None


def test_pending_key_change_refuses_adding_and_handing_over_not_removing() -> None:
    assert team_refusal(C.OPEN, team(pending=True), T.ADD) == KEY_CHANGE_FIRST
    assert team_refusal(C.OPEN, team(pending=True), T.HAND_OVER) == KEY_CHANGE_FIRST
    assert team_refusal(C.OPEN, team(3, pending=True), T.REMOVE) is None
    assert team_refusal(C.OPEN, team(1, pending=True), T.REMOVE) == LAST_FACILITATOR


def test_new_epoch_only_while_one_is_pending() -> None:
    assert team_refusal(C.OPEN, team(pending=True), T.NEW_EPOCH) is None
    assert team_refusal(C.PAUSED, team(1, pending=True), T.NEW_EPOCH) is None
    assert team_refusal(C.OPEN, team(), T.NEW_EPOCH) == "This case's key is already up to date."


def test_only_a_case_nobody_active_holds_is_reassigned() -> None:
    assert team_refusal(C.OPEN, team(1, active=0), T.REASSIGN) is None
    assert team_refusal(C.PAUSED, team(0, pending=True, active=0), T.REASSIGN) is None
    assert team_refusal(C.OPEN, team(2, active=1), T.REASSIGN) == HAS_FACILITATOR
    assert team_refusal(C.CLOSED, team(1, active=0), T.REASSIGN) == "This case is closed."


# -- the case's path -------------------------------------------------------------------------

ST = CaseStage


def test_a_case_moves_forward_to_any_later_stage_but_closes_only_by_closing() -> None:
    assert next_stages(ST.REFERRED) == [
        ST.FIRST_CONTACT,
        ST.ASSESSMENT,
        ST.PREPARATION,
        ST.COMMUNICATION,
        ST.OUTCOME,
    ]
    assert next_stages(ST.PREPARATION) == [ST.COMMUNICATION, ST.OUTCOME]
    assert next_stages(ST.OUTCOME) == []
    assert next_stages(ST.CLOSED) == []


@pytest.mark.parametrize("current", list(CaseStage))
@pytest.mark.parametrize("target", list(CaseStage))
def test_every_move_is_allowed_exactly_when_offered(current: CaseStage, target: CaseStage) -> None:
    refusal = stage_refusal(current, target)
    assert (refusal is None) == (target in next_stages(current))
    if current is ST.CLOSED:
        assert refusal == "This case is closed."
    elif target is ST.CLOSED:
        assert refusal == "Close the case to end its path, with the reason it closed."


def test_a_move_is_dated_today_or_earlier_and_never_before_the_last() -> None:
    today = date(2027, 3, 10)
    last = date(2027, 3, 1)
    assert reached_on_refusal(today, last, today) is None
    assert reached_on_refusal(last, last, today) is None
    assert reached_on_refusal(today + timedelta(days=1), last, today) == (
        "Enter today's date or an earlier one."
    )
    assert reached_on_refusal(last - timedelta(days=1), last, today) == (
        "Enter a date on or after the day the case reached its current stage."
    )
