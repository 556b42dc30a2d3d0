"""What may happen to a case and to its participants now: pure, no database, no clock.

Services ask it before they change anything, and the case page renders only the actions it
allows, so no browser keeps a copy of these rules (``docs/architecture.md``).

    OPEN ──pause──▶ PAUSED
      ▲  ◀─resume──┘
      └──close──▶ CLOSED ◀──close── PAUSED      (closing is final)

A participant is acted on only while the case is not closed and they have not withdrawn:
inviting them until they have joined, recording their consent, and, once they have joined,
recording that their security number was compared in person and giving them the case's
public key; until they have joined, a facilitator may enter a message for them. A closed case
keeps its records; nothing more is done in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from portal.cases.models import CaseCondition, CaseStage


class CaseAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"


C = CaseCondition
CASE_TRANSITIONS: dict[tuple[CaseCondition, CaseAction], CaseCondition] = {
    (C.OPEN, CaseAction.PAUSE): C.PAUSED,
    (C.PAUSED, CaseAction.RESUME): C.OPEN,
    (C.OPEN, CaseAction.CLOSE): C.CLOSED,
    (C.PAUSED, CaseAction.CLOSE): C.CLOSED,
}


def case_actions(condition: CaseCondition) -> list[CaseAction]:
    """The status actions offered now, in the order the page shows them."""
    return [action for action in CaseAction if (condition, action) in CASE_TRANSITIONS]


def action_towards(current: CaseCondition, target: CaseCondition) -> CaseAction | None:
    """The action that moves a case from ``current`` to ``target``, or None if none does."""
    for (source, action), result in CASE_TRANSITIONS.items():
        if source is current and result is target:
            return action
    return None


# -- the case's path ---------------------------------------------------------------------------
#
#   REFERRED → FIRST_CONTACT → ASSESSMENT → PREPARATION → COMMUNICATION → OUTCOME → CLOSED
#
# A facilitator moves a case forward, to the next stage or past ones that did not happen (a
# case may go from assessment straight to closed, or skip preparation): never back, since each
# move is a dated fact a commissioner's figures count. Only closing (with a reason) reaches
# CLOSED, and it ends the path.
STAGES = tuple(CaseStage)


def next_stages(current: CaseStage) -> list[CaseStage]:
    """The stages a facilitator may move the case to now, in order (closing is its own act)."""
    later = STAGES[STAGES.index(current) + 1 :]
    return [stage for stage in later if stage is not CaseStage.CLOSED]


def stage_refusal(current: CaseStage, target: CaseStage) -> str | None:
    """Why the case cannot move from ``current`` to ``target`` now, or None."""
    if current is CaseStage.CLOSED:
        return "This case is closed."
    if target is CaseStage.CLOSED:
        return "Close the case to end its path, with the reason it closed."
    if target not in next_stages(current):
        return f"This case is already at {current.label.lower()}. Please reload the page."
    return None


def reached_on_refusal(reached_on: date, last_reached_on: date, today: date) -> str | None:
    """Why ``reached_on`` cannot be the day of the next move, or None: moves are dated facts in
    order, none in the future."""
    if reached_on > today:
        return "Enter today's date or an earlier one."
    if reached_on < last_reached_on:
        return "Enter a date on or after the day the case reached its current stage."
    return None


LAST_FACILITATOR = (
    "A case always needs a facilitator, so the last one cannot leave it. Hand the case over to a "
    "colleague instead."
)
HAS_FACILITATOR = (
    "This case has a facilitator, who can add a colleague or hand it over. Please reload the page."
)
KEY_CHANGE_FIRST = (
    "This case is waiting for its new key, which a facilitator's browser makes when they open "
    "the case. Open it again in a moment, then try once more."
)


class ParticipantAction(StrEnum):
    INVITE = "invite"
    RECORD_CONSENT = "record_consent"
    MARK_VERIFIED = "mark_verified"
    GIVE_CASE_KEY = "give_case_key"
    REKEY = "rekey"  # a code for a new key, after their identity was checked in person
    # A facilitator enters a letter or recording for someone who cannot use the portal
    # (messages/entered.py). Only for someone without an account: whoever joined writes
    # for themselves, and a message entered for them would bypass their own voice.
    ENTER_FOR = "enter_for"


@dataclass(frozen=True)
class ParticipantStanding:
    """The facts about a participant that decide what may be done for them."""

    joined: bool
    withdrawn: bool
    holds_case_key: bool
    # A facilitator left and the next key epoch is not made yet: the only public key to give
    # is the old one, which the facilitator who left can open.
    case_key_changing: bool = False


def participant_refusal(
    condition: CaseCondition, standing: ParticipantStanding, action: ParticipantAction
) -> str | None:
    """Why ``action`` may not be done for this participant now (a sentence), or None."""
    if condition is C.CLOSED:
        return "This case is closed."
    if standing.withdrawn:
        return "This person has withdrawn from the process."
    if action is ParticipantAction.INVITE and standing.joined:
        return "This person has already joined."
    needs_account = {
        ParticipantAction.MARK_VERIFIED,
        ParticipantAction.GIVE_CASE_KEY,
        ParticipantAction.REKEY,
    }
    if action in needs_account and not standing.joined:
        return "This person has not joined yet."
    if action is ParticipantAction.ENTER_FOR and standing.joined:
        return "This person uses the portal, so they write their own letters."
    if action is ParticipantAction.GIVE_CASE_KEY and standing.case_key_changing:
        return KEY_CHANGE_FIRST
    return None


def participant_actions(
    condition: CaseCondition, standing: ParticipantStanding
) -> frozenset[ParticipantAction]:
    """What may be done for this participant now.

    GIVE_CASE_KEY is offered only to someone who does not hold the key yet: the facilitator's
    browser gives it as soon as it sees such a participant. (The service still accepts a new
    grant for someone who holds one: two facilitators' pages may give it at the same time.)
    """
    allowed = {
        action
        for action in ParticipantAction
        if participant_refusal(condition, standing, action) is None
    }
    if standing.holds_case_key:
        allowed.discard(ParticipantAction.GIVE_CASE_KEY)
    return frozenset(allowed)


class SupporterAction(StrEnum):
    INVITE = "invite"
    REVOKE = "revoke"
    MARK_VERIFIED = "mark_verified"
    # A facilitator's browser boxes the case public key to one who may write (as to participants).
    GIVE_CASE_KEY = "give_case_key"
    REKEY = "rekey"  # a code for a new key, after their identity was checked in person


@dataclass(frozen=True)
class SupporterStanding:
    """The facts about a supporter's or representative's place that decide what may be done
    with it. ``ended``: its end date has passed; ``side_withdrawn``: the participant whose side
    it is has withdrawn (which stops everything for their side, supporters included)."""

    joined: bool
    revoked: bool
    ended: bool
    side_withdrawn: bool
    may_write: bool = False
    holds_case_key: bool = False


def supporter_refusal(
    condition: CaseCondition, standing: SupporterStanding, action: SupporterAction
) -> str | None:
    """Why ``action`` may not be done for this supporter now (a sentence), or None.

    Revoking stays allowed in a closed case and after the participant withdrew: taking access
    away must always be possible while there is access to take.
    """
    if standing.revoked:
        return "This person's access has already been taken away."
    if standing.ended:
        return "This person's access has already ended."
    if action is SupporterAction.REVOKE:
        return None
    if condition is C.CLOSED:
        return "This case is closed."
    if standing.side_withdrawn:
        return "The person they support has withdrawn from the process."
    if action is SupporterAction.INVITE and standing.joined:
        return "This person has already joined."
    if action in {SupporterAction.MARK_VERIFIED, SupporterAction.REKEY} and not standing.joined:
        return "This person has not joined yet."
    if action is SupporterAction.GIVE_CASE_KEY:
        if not standing.joined:
            return "This person has not joined yet."
        if not standing.may_write:
            return "This person may not write for the participant."
        if standing.holds_case_key:
            return "This person already holds the case's key."
    return None


def supporter_actions(
    condition: CaseCondition, standing: SupporterStanding
) -> frozenset[SupporterAction]:
    """What may be done with this supporter's place now (the case page offers only these)."""
    return frozenset(
        action
        for action in SupporterAction
        if supporter_refusal(condition, standing, action) is None
    )


class KeyStanding(StrEnum):
    """A participant's or supporter's current key against the one a facilitator compared with
    them in person (the server's record; each browser also checks its own vault's pin)."""

    NONE = "none"  # not joined: no key at all
    UNVERIFIED = "unverified"  # never compared in person
    VERIFIED = "verified"  # the key compared in person is the current one
    CHANGED = "changed"  # compared once, but the account has had a new key since (re-keyed)


def key_standing(current: bytes | None, verified: bytes | None) -> KeyStanding:
    if current is None:
        return KeyStanding.NONE
    if verified is None:
        return KeyStanding.UNVERIFIED
    return KeyStanding.VERIFIED if verified == current else KeyStanding.CHANGED


def recipient_grant_refusal(standing: KeyStanding) -> str | None:
    """Why nothing may be released to a recipient with this key now, or None.

    A key never compared may still be released to after the facilitator's explicit confirmation
    in their browser (as before re-keying existed); a key that changed since it was compared may
    not, until it is compared again: the change is exactly what comparing in person catches."""
    if standing is KeyStanding.NONE:
        return "The recipient has not joined the portal yet."
    if standing is KeyStanding.CHANGED:
        return (
            "The recipient's key changed since it was compared in person. Compare it with them "
            "before releasing anything to them."
        )
    return None


def reader_grant_refusal(standing: KeyStanding) -> str | None:
    """Why a supporter, or anyone given access again after a key change, may not be granted
    anything now, or None: only a key compared in person, and the current one, is granted to."""
    if standing is KeyStanding.VERIFIED:
        return None
    if standing is KeyStanding.NONE:
        return "This person has not joined the portal yet."
    return "This person's key has not been compared in person since it last changed."


class TeamAction(StrEnum):
    """Changes to a case's team of facilitators and to its key epochs."""

    ADD = "add"  # a colleague joins, granted the current epoch's key
    REMOVE = "remove"  # a facilitator leaves (removed by a colleague, or by themself)
    HAND_OVER = "hand_over"  # add a colleague and leave, in one step
    NEW_EPOCH = "new_epoch"  # a remaining facilitator's browser makes the next case key
    REASSIGN = "reassign"  # a service manager gives a case nobody active holds to a facilitator


@dataclass(frozen=True)
class TeamStanding:
    """The facts about a case's team that decide what may change: how many facilitators it has,
    and whether it waits for its next key epoch (a facilitator left and no remaining
    facilitator's browser has made the new key yet)."""

    facilitators: int
    key_change_pending: bool
    # Of them, whose accounts are not disabled: none means the case is unattended.
    active_facilitators: int


def team_refusal(
    condition: CaseCondition, standing: TeamStanding, action: TeamAction
) -> str | None:
    """Why ``action`` may not be done to the case's team now (a sentence), or None.

    While a case waits for its next epoch, nobody is added or handed the case: the only key
    there is to give them is the old one, which the facilitator who left also holds. Removing
    another facilitator meanwhile is allowed (the one new epoch leaves both out). The last
    facilitator never leaves (REMOVE counts whoever is removed, the remover included).
    """
    if condition is C.CLOSED:
        return "This case is closed."
    if action is TeamAction.REASSIGN:
        return None if standing.active_facilitators == 0 else HAS_FACILITATOR
    if action is TeamAction.NEW_EPOCH:
        return None if standing.key_change_pending else "This case's key is already up to date."
    if standing.key_change_pending and action in {TeamAction.ADD, TeamAction.HAND_OVER}:
        return KEY_CHANGE_FIRST
    if action is TeamAction.REMOVE and standing.facilitators <= 1:
        return LAST_FACILITATOR
    return None
