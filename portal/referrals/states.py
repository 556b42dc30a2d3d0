"""The referral state machine (triage): one enum, one table of moves, one ``transition()``.

Pure: no database, no clock. Services ask it whether a move is allowed; the referral's page asks
it what to offer (``allowed_actions``), so no browser keeps a copy of these rules.

    RECEIVED ──ask_more──▶ MORE_INFO_ASKED
       │  │                   │  │
       │  └──────accept───────┼──┴──▶ ACCEPTED (a facilitator is to open its case)
       └─────────decline──────┴─────▶ DECLINED (with a reason category)

Why: asking for more information is recorded once (the referrer is contacted outside the
portal; asking again changes nothing the service counts). Accepting and declining are final: a
referral accepted has been shared with the facilitator who holds its case, and one declined is
counted in the service's figures by its reason.

Errors (all ``TransitionError``): ``NotAllowedNow`` (no such move from this state).
"""

from __future__ import annotations

from enum import StrEnum


class ReferralState(StrEnum):
    RECEIVED = "received"
    MORE_INFO_ASKED = "more_info_asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    ReferralState.RECEIVED: "New",
    ReferralState.MORE_INFO_ASKED: "More information asked for",
    ReferralState.ACCEPTED: "Accepted",
    ReferralState.DECLINED: "Declined",
}


class TriageAction(StrEnum):
    ASK_MORE = "ask_more"
    ACCEPT = "accept"
    DECLINE = "decline"


class DeclineReason(StrEnum):
    """Why a referral was declined: a category the figures count, never words."""

    NOT_SUITABLE = "not_suitable"
    OUTSIDE_AREA = "outside_area"
    NO_CONSENT = "no_consent"
    DUPLICATE = "duplicate"
    OTHER = "other"

    @property
    def label(self) -> str:
        return DECLINE_LABELS[self]


DECLINE_LABELS = {
    DeclineReason.NOT_SUITABLE: "Not suitable",
    DeclineReason.OUTSIDE_AREA: "Outside the service's area",
    DeclineReason.NO_CONSENT: "No consent",
    DeclineReason.DUPLICATE: "A duplicate",
    DeclineReason.OTHER: "Another reason",
}

S = ReferralState
TRANSITIONS: dict[tuple[ReferralState, TriageAction], ReferralState] = {
    (S.RECEIVED, TriageAction.ASK_MORE): S.MORE_INFO_ASKED,
    (S.RECEIVED, TriageAction.ACCEPT): S.ACCEPTED,
    (S.RECEIVED, TriageAction.DECLINE): S.DECLINED,
    (S.MORE_INFO_ASKED, TriageAction.ACCEPT): S.ACCEPTED,
    (S.MORE_INFO_ASKED, TriageAction.DECLINE): S.DECLINED,
}
# Until one of these is reached, first contact may be overdue (the inbox highlights it).
DECIDED = frozenset({S.ACCEPTED, S.DECLINED})


class TransitionError(Exception):
    """A triage move the state machine does not allow."""


class NotAllowedNow(TransitionError):
    """The move does not exist from this state (someone else may have decided first)."""

    def __init__(self, state: ReferralState, action: TriageAction) -> None:
        super().__init__(f"cannot {action.value} a referral that is {state.value}")
        self.state = state
        self.action = action

    @property
    def sentence(self) -> str:
        """What the person who tried is told (409)."""
        if self.state in DECIDED:
            return (
                f"This referral has already been {self.state.label.lower()}. Reload the page to "
                "see what happened."
            )
        return "More information has already been asked for. You can accept or decline it now."


def transition(state: ReferralState, action: TriageAction) -> ReferralState:
    """The state after ``action``, or ``NotAllowedNow``."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise NotAllowedNow(state, action)
    return target


def allowed_actions(state: ReferralState) -> frozenset[TriageAction]:
    return frozenset(action for (start, action) in TRANSITIONS if start is state)
