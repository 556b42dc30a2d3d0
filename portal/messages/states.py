"""The message state machine: one enum, one table of moves, one ``transition()``.

Pure: no database, no clock (it imports only the case's ``CaseCondition`` enum). Services ask
it whether a move is allowed and what it leads to; pages ask it what to offer
(``review_actions``, ``author_actions``) so that no browser keeps a copy of these rules.

    SUBMITTED ──claim──▶ IN_REVIEW ──approve──▶ AWAITING_RECIPIENT ──open──▶ OPENED
        ▲  ◀──release──┘    │  │  │                ▲ │  ▲      │
        │                    │  │  └approve_once─▶ APPROVED_ONCE ─approve (a second facilitator)
        │                    │  └─withhold─▶ WITHHELD  hold  resume  decline─▶ DECLINED
        └──revise── RETURNED ◀─return─┘            ▼  │
                                                   HELD
    (APPROVED_ONCE, "waiting for a second approval", may also be returned or withheld by the
    second facilitator.)
    Any state before OPENED ──withdraw──▶ WITHDRAWN (by the author, or by their withdrawal
    from the process). The recipient withdrawing from the process moves what waits for them
    to HELD.

Why the rules are what they are:
- Only ``open`` leads to OPENED, and only the recipient can open: that is the one move in which
  the server hands over the recipient's grant. Nothing is readable by a recipient otherwise.
- While a case is paused, nothing moves towards delivery (claim, approve, open, revise, resume
  and the rest are refused). Stopping moves (withdraw, hold) stay allowed: anyone may always
  withdraw, and pausing must never trap an item on its way to someone.
- A closed case moves nothing at all except withdrawal.
- In a high-risk case release needs two different facilitators: the reviewer's approval is
  ``approve_once`` (no recipient grant is made), and only a facilitator other than the first
  approver may then ``approve`` (making the grant), return or withhold. Whether the case is
  high-risk is asked at the moment of approval, so marking a case high-risk while something is
  being reviewed applies to that item. Unmarking it does not undo a first approval: the item
  still waits for a second one, as it was approved on that footing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from portal.cases.models import CaseCondition


class MessageState(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED_ONCE = "approved_once"
    RETURNED = "returned"
    AWAITING_RECIPIENT = "awaiting_recipient"
    HELD = "held"
    OPENED = "opened"
    DECLINED = "declined"
    WITHHELD = "withheld"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    CLAIM = "claim"
    RELEASE_CLAIM = "release_claim"
    APPROVE = "approve"
    APPROVE_ONCE = "approve_once"  # the first of two approvals in a high-risk case
    RETURN = "return"
    WITHHOLD = "withhold"
    REVISE = "revise"
    OPEN = "open"
    HOLD = "hold"
    RESUME = "resume"
    DECLINE = "decline"
    WITHDRAW = "withdraw"


S = MessageState
TRANSITIONS: dict[tuple[MessageState, Action], MessageState] = {
    (S.SUBMITTED, Action.CLAIM): S.IN_REVIEW,
    (S.IN_REVIEW, Action.RELEASE_CLAIM): S.SUBMITTED,
    (S.IN_REVIEW, Action.APPROVE): S.AWAITING_RECIPIENT,
    (S.IN_REVIEW, Action.RETURN): S.RETURNED,
    (S.IN_REVIEW, Action.WITHHOLD): S.WITHHELD,
    (S.IN_REVIEW, Action.APPROVE_ONCE): S.APPROVED_ONCE,
    (S.APPROVED_ONCE, Action.APPROVE): S.AWAITING_RECIPIENT,
    (S.APPROVED_ONCE, Action.RETURN): S.RETURNED,
    (S.APPROVED_ONCE, Action.WITHHOLD): S.WITHHELD,
    (S.RETURNED, Action.REVISE): S.SUBMITTED,
    (S.AWAITING_RECIPIENT, Action.OPEN): S.OPENED,
    (S.AWAITING_RECIPIENT, Action.HOLD): S.HELD,
    (S.AWAITING_RECIPIENT, Action.DECLINE): S.DECLINED,
    (S.HELD, Action.RESUME): S.AWAITING_RECIPIENT,
    (S.HELD, Action.DECLINE): S.DECLINED,
    **{
        (state, Action.WITHDRAW): S.WITHDRAWN
        for state in (
            S.SUBMITTED,
            S.IN_REVIEW,
            S.APPROVED_ONCE,
            S.RETURNED,
            S.AWAITING_RECIPIENT,
            S.HELD,
        )
    },
}

# Moves that stop or hold something; every other move carries an item towards delivery.
STOPPING_ACTIONS = frozenset({Action.WITHDRAW, Action.HOLD})
FINAL_STATES = frozenset({S.OPENED, S.DECLINED, S.WITHHELD, S.WITHDRAWN})
# States in which the recipient's grant exists (made by the approving facilitator's browser).
RECIPIENT_GRANT_STATES = frozenset({S.AWAITING_RECIPIENT, S.HELD, S.OPENED})
# What a facilitator still has to decide on: the review queue's default, a case's "waiting".
WAITING_FOR_REVIEW = frozenset({S.SUBMITTED, S.IN_REVIEW, S.APPROVED_ONCE})
# The review queue's filters, by the name the page uses (?state=...).
QUEUE_FILTERS: dict[str, frozenset[MessageState]] = {
    "waiting": WAITING_FOR_REVIEW,
    "reviewing": frozenset({S.IN_REVIEW}),
    "second": frozenset({S.APPROVED_ONCE}),
    "all": frozenset(MessageState),
}
# Stopped for good before reaching the recipient: the recipient's grant is shredded on the way
# in, and the author may delete the content (nothing can ever carry it to anyone again).
STOPPED_FOR_GOOD = frozenset({S.WITHDRAWN, S.WITHHELD, S.DECLINED})
DELETABLE = STOPPED_FOR_GOOD
# What was written on a participant's behalf is granted to them (so they can read it before it
# goes out, and object) until it is stopped for good: nothing new is granted after that.
SIDE_GRANT_STATES = frozenset(MessageState) - STOPPED_FOR_GOOD


class TransitionError(Exception):
    """A move the state machine does not allow."""


class NotAllowedNow(TransitionError):
    """The move does not exist from this state."""

    def __init__(self, state: MessageState, action: Action) -> None:
        super().__init__(f"cannot {action.value} a message that is {state.value}")
        self.state = state
        self.action = action


class NeedsTwoApprovals(TransitionError):
    """A high-risk case: one facilitator's approval cannot release, or this facilitator has
    already given the first approval (the same facilitator twice never counts)."""

    def __init__(self, action: Action) -> None:
        super().__init__(f"cannot {action.value}: release needs two different facilitators")
        self.action = action


class CaseNotMoving(TransitionError):
    """The case is paused or closed, so this move must wait."""

    def __init__(self, condition: CaseCondition, action: Action) -> None:
        super().__init__(f"cannot {action.value} while the case is {condition.value}")
        self.condition = condition
        self.action = action


@dataclass(frozen=True)
class Approvals:
    """What release needs for one move: whether the case is high-risk now, and whether the
    facilitator moving is the one who gave the first approval."""

    high_risk: bool = False
    first_approver: bool = False


SINGLE = Approvals()
# Moves a second facilitator makes on a first approval; the first approver never makes them.
SECOND_DECISIONS = frozenset({Action.APPROVE, Action.RETURN, Action.WITHHOLD})


def transition(
    state: MessageState, action: Action, case: CaseCondition, approvals: Approvals = SINGLE
) -> MessageState:
    """The state after ``action``, or a named error if the move is not allowed now."""
    if case is not CaseCondition.OPEN:
        allowed = {Action.WITHDRAW} if case is CaseCondition.CLOSED else STOPPING_ACTIONS
        if action not in allowed:
            raise CaseNotMoving(case, action)
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise NotAllowedNow(state, action)
    if state is S.IN_REVIEW and action is Action.APPROVE and approvals.high_risk:
        raise NeedsTwoApprovals(action)
    if state is S.IN_REVIEW and action is Action.APPROVE_ONCE and not approvals.high_risk:
        # One approval releases here; a first of two would strand the item for nothing.
        raise NotAllowedNow(state, action)
    if state is S.APPROVED_ONCE and action in SECOND_DECISIONS and approvals.first_approver:
        raise NeedsTwoApprovals(action)
    return target


@cache
def allowed_actions(
    state: MessageState, case: CaseCondition, approvals: Approvals = SINGLE
) -> frozenset[Action]:
    # Worked out once per (state, case condition, approvals): a page asks it for every row it
    # shows, and trying each move raises and catches an exception per move refused (a queue
    # page of 25 rows spent 1.6 ms here). Pure, and the answer is an immutable frozenset, so
    # sharing it is safe.
    result = set()
    for action in Action:
        try:
            transition(state, action, case, approvals)
        except TransitionError:
            continue
        result.add(action)
    return frozenset(result)


def recipient_may_read(state: MessageState) -> bool:
    """Only an item the recipient chose to open is readable by them."""
    return state is S.OPENED


# ---------------------------------------------------------------- what each page may offer


class ClaimHolder(StrEnum):
    """Who holds the review claim on a message, as seen by the facilitator asking."""

    ME = "me"
    SOMEONE_ELSE = "someone_else"
    NOBODY = "nobody"


# What a reviewer decides once they hold the claim; "stop reviewing" releases it.
REVIEW_DECISIONS = frozenset(
    {Action.RELEASE_CLAIM, Action.APPROVE, Action.APPROVE_ONCE, Action.RETURN, Action.WITHHOLD}
)


def review_actions(
    state: MessageState, case: CaseCondition, claim: ClaimHolder, approvals: Approvals = SINGLE
) -> frozenset[Action]:
    """The review actions a facilitator can take now (claim, release, approve, approve once,
    return, withhold, resume): only the claim holder decides, and only what the case lets move.

    A waiting letter can be claimed; a held one offered again; one being reviewed is decided
    on by whoever holds the claim, and by nobody else until they release it. One approved once
    (a high-risk case) is decided on by any facilitator of the case but the first approver:
    it needs no claim, since the second decision is one locked move.
    """
    if state is S.IN_REVIEW:
        offered = REVIEW_DECISIONS if claim is ClaimHolder.ME else frozenset()
    elif state is S.APPROVED_ONCE:
        offered = SECOND_DECISIONS
    else:
        offered = frozenset({Action.CLAIM, Action.RESUME})
    return offered & allowed_actions(state, case, approvals)


@dataclass(frozen=True)
class AuthorActions:
    """What the author's letter page offers."""

    withdraw: bool
    revise: bool
    delete: bool


def author_actions(
    state: MessageState, case: CaseCondition, *, content_deleted: bool
) -> AuthorActions:
    """Withdraw and revise as the state machine allows; delete the content once nothing can
    carry it to anyone (and only once)."""
    allowed = allowed_actions(state, case)
    return AuthorActions(
        withdraw=Action.WITHDRAW in allowed,
        revise=Action.REVISE in allowed,
        delete=state in DELETABLE and not content_deleted,
    )


@dataclass(frozen=True)
class RecipientChoices:
    """What the recipient's page (templates/inbox/show.html) offers for something passed on."""

    open: bool  # "Open it now": the one move that hands over their grant
    read_again: bool  # opened before: the same open call, and nothing moves
    not_yet: bool  # changes nothing: offered while the item waits for their choice
    hold: bool
    decline: bool


def recipient_choices(state: MessageState, case: CaseCondition) -> RecipientChoices:
    """The recipient's choices now, as the state machine allows them.

    "Not yet" moves nothing, so the table has no row for it: it is offered while the item still
    waits for the recipient (awaiting them, in a case that has not closed).
    """
    allowed = allowed_actions(state, case)
    return RecipientChoices(
        open=Action.OPEN in allowed,
        read_again=recipient_may_read(state),
        not_yet=state is S.AWAITING_RECIPIENT and case is not CaseCondition.CLOSED,
        hold=Action.HOLD in allowed,
        decline=Action.DECLINE in allowed,
    )
