"""Supporters and representatives as the pages show them, and taking access away (which reaches
into invitations and content, hence here rather than in ``portal/cases``).

The facilitator's case page lists everyone ever given a place on each participant's side with
the facts and the actions allowed now (``cases/states.py`` ``supporter_actions``); the
participant's home lists their own with "take away access"; a supporter's home says whose side
they are on and what they may do. Names are sealed to the case key: only facilitators' browsers
open them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal import local_time, protocol
from portal.accounts.models import Account
from portal.cases import supporters
from portal.cases.models import Case, Participant, Supporter
from portal.cases.states import SupporterAction
from portal.content import services as content
from portal.db import utcnow
from portal.invitations import services as invitations
from portal.messages import labels
from portal.messages import services as messages
from portal.settings import Settings


@dataclass(frozen=True)
class SupporterView:
    id: str
    participant_id: str
    kind: str
    kind_label: str
    sealed_name: str
    may: list[str]  # what they may do, as sentences
    status: str  # one sentence: where their access stands
    active: bool  # joined, and access not taken away or ended
    invited_on: str
    joined_on: str | None
    ends_on: str | None
    invitation_expires_on: str | None
    account_id: str | None
    public_key: str | None
    signing_public_key: str | None
    verified_public_key: str | None
    verified_on: str
    actions: frozenset[SupporterAction]

    @property
    def call_name(self) -> str:
        return f"their {self.kind_label.lower()}"

    @property
    def start_name(self) -> str:
        return f"Their {self.kind_label.lower()}"

    @property
    def needs_case_key(self) -> bool:
        """They may write and wait for a facilitator's browser to box them the case key."""
        return SupporterAction.GIVE_CASE_KEY in self.actions

    @property
    def may_invite(self) -> bool:
        return SupporterAction.INVITE in self.actions

    @property
    def may_revoke(self) -> bool:
        return SupporterAction.REVOKE in self.actions

    @property
    def may_mark_verified(self) -> bool:
        return SupporterAction.MARK_VERIFIED in self.actions and self.public_key is not None

    @property
    def may_rekey(self) -> bool:
        """A code for a new key, after a lost password and recovery code."""
        return SupporterAction.REKEY in self.actions and self.public_key is not None


def _status(supporter: Supporter, now: datetime) -> str:
    day = local_time.day
    if supporter.revoked_at is not None:
        return f"Access taken away on {day(supporter.revoked_at)}"
    if supporter.ends_at is not None and supporter.ends_at <= now:
        return f"Access ended on {day(supporter.ends_at)}"
    if supporter.participant.withdrawn_at is not None:
        return "Nothing more is passed on: the person they support has withdrawn"
    if supporter.joined_at is not None:
        return f"Has access since {day(supporter.joined_at)}"
    return "Not joined yet"


def supporter_view(db: Session, case: Case, supporter: Supporter) -> SupporterView:
    b64 = protocol.b64encode
    now = utcnow()
    account = supporter.account
    current_key = account.public_key if account else None
    pending = None if account else invitations.pending_supporter_invitation(db, supporter)
    verified_now = current_key is not None and supporter.verified_public_key == current_key
    actions = supporters.actions_for(case, supporter)
    return SupporterView(
        id=supporter.id,
        participant_id=supporter.participant_id,
        kind=supporter.kind.value,
        kind_label=supporter.kind.label,
        sealed_name=b64(supporter.display_name),
        may=supporters.permissions_of(supporter).sentences(),
        status=_status(supporter, now),
        active=supporter.has_access(now) and supporter.participant.withdrawn_at is None,
        invited_on=local_time.day(supporter.created_at),
        joined_on=local_time.day(supporter.joined_at) if supporter.joined_at else None,
        ends_on=local_time.day(supporter.ends_at) if supporter.ends_at else None,
        invitation_expires_on=local_time.day(pending.expires_at) if pending else None,
        account_id=account.id if account else None,
        public_key=b64(current_key) if current_key else None,
        signing_public_key=b64(account.signing_public_key)
        if account and account.signing_public_key
        else None,
        verified_public_key=b64(supporter.verified_public_key)
        if supporter.verified_public_key
        else None,
        verified_on=local_time.day(supporter.key_verified_at) if verified_now else "",
        actions=actions,
    )


def views_by_participant(
    db: Session, case: Case, participants: list[Participant]
) -> dict[str, list[SupporterView]]:
    """Each participant's supporters, for the case page (one statement for all of them)."""
    found: dict[str, list[SupporterView]] = {p.id: [] for p in participants}
    for supporter in supporters.supporters_of(db, [p.id for p in participants]):
        found[supporter.participant_id].append(supporter_view(db, case, supporter))
    return found


def take_away_access(
    db: Session, settings: Settings, actor: Account, case: Case, supporter: Supporter
) -> None:
    """Revoke at once, by the participant or a facilitator: from now no new grant is made to
    them, every grant already made to them is deleted (they can open nothing more, even what
    they read before), and an invitation still waiting for them stops working."""
    supporters.revoke(db, settings, actor, case, supporter)
    invitations.withdraw_for_supporter(db, supporter)
    if supporter.account_id is not None:
        content.remove_grants_to(db, supporter.account_id)


@dataclass(frozen=True)
class RequestView:
    """A participant's open request for a supporter or representative, as pages show it."""

    id: str
    kind: str
    kind_label: str
    may: list[str]
    may_read: bool
    may_write: bool
    may_receive_notices: bool
    requested_on: str


def open_request_view(db: Session, participant: Participant) -> RequestView | None:
    request = supporters.open_request_of(db, participant)
    if request is None:
        return None
    return RequestView(
        id=request.id,
        kind=request.kind.value,
        kind_label=request.kind.label,
        may=supporters.request_permissions(request).sentences(),
        may_read=request.may_read,
        may_write=request.may_write,
        may_receive_notices=request.may_receive_notices,
        requested_on=local_time.day(request.requested_at),
    )


def for_participant(db: Session, participant: Participant) -> list[dict[str, Any]]:
    """The participant's own supporters, as their home lists them (no names: those are sealed
    to the case key, which participants do not hold)."""
    now = utcnow()
    return [
        {
            "id": s.id,
            "kind_label": s.kind.label,
            "may": supporters.permissions_of(s).sentences(),
            "status": _status(s, now),
            "ends_on": local_time.day(s.ends_at) if s.ends_at else None,
            "invited_on": local_time.day(s.created_at),
            "may_revoke": SupporterAction.REVOKE in supporters.actions_for(participant.case, s),
        }
        for s in supporters.supporters_of(db, [participant.id])
    ]


def supporter_home(
    db: Session, supporter: Supporter, page: int = 1, waiting_page: int = 1
) -> dict[str, Any]:
    """A supporter's own home: whose side, what they may do, where their access stands, and
    (when they may read now) what the participant chose to open, newest first."""
    now = utcnow()
    reading = supporter.may_read and supporter.has_access(now)
    reading = reading and supporter.participant.withdrawn_at is None
    writing = supporter.may_write and supporter.has_access(now)
    writing = writing and supporter.participant.withdrawn_at is None
    holding = supporters.holder_of(db, supporter.participant) is supporter
    return {
        # Holding the side of a participant without an account: what waits for them, offered
        # to this representative (a neutral notice each, as on a participant's home).
        "waiting": messages.letters_for(db, supporter.participant, waiting_page).map(
            lambda m: {"id": m.id, "words": labels.recipient_words(m.state, holder=True)}
        )
        if holding
        else None,
        # What they wrote for the participant (and whether they may write now).
        "written": messages.letters_written_by(db, supporter, page).map(
            lambda m: {
                "id": m.id,
                "state_label": labels.for_author(m),
                "submitted_text": local_time.short_day(m.submitted_at),
            }
        )
        if supporter.may_write
        else None,
        "can_write": writing,
        "readable": messages.opened_for(db, supporter.participant, page).map(
            lambda m: {
                "id": m.id,
                "format_label": m.format.label,
                "on": local_time.day(m.opened_at),
            }
        )
        if reading
        else None,
        "kind_label": supporter.kind.label,
        "side_label": supporter.participant.side.label,
        "may": supporters.permissions_of(supporter).sentences(),
        "status": _status(supporter, now),
        "active": supporter.has_access(now) and supporter.participant.withdrawn_at is None,
        "ends_on": local_time.day(supporter.ends_at) if supporter.ends_at else None,
    }
