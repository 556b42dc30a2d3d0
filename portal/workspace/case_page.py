"""What the case page shows (templates/cases/show.html and its partials): the case's status and
the actions on it allowed now, and each participant with the facts a facilitator reads before
acting and the actions allowed for them now (``portal/cases/states.py``). Reads only.

Display names are sealed to the case key: the page gets each one as a ciphertext, which the
facilitator's browser opens in place (a sealed placeholder, static/js/pages/case.js). Until it
opens, and if it cannot be opened, the participant is called by their side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from portal import local_time, protocol
from portal.accounts.models import Account
from portal.cases import services as cases
from portal.cases.models import Case, CaseCondition, CaseFacilitator, Format, Participant
from portal.cases.states import (
    CaseAction,
    ParticipantAction,
    TeamAction,
    TeamStanding,
    case_actions,
    team_refusal,
)
from portal.invitations import services as invitations
from portal.workspace.case_path import CLOSING_CHOICES, StageChoice, path_view
from portal.workspace.supporters import (
    RequestView,
    SupporterView,
    open_request_view,
    views_by_participant,
)

STATUS_WORDS = {
    CaseCondition.OPEN: "open",
    CaseCondition.PAUSED: "paused",
    CaseCondition.CLOSED: "closed",
}


def date_text(moment: datetime | None) -> str:
    """The date as "3 March 2025" (in the service's zone), or "" for none."""
    return local_time.day(moment)


@dataclass(frozen=True)
class CaseView:
    id: str
    reference: str
    label: str
    status: str
    status_words: str
    actions: list[CaseAction]
    high_risk: str  # the HighRisk value, or "" when release needs one approval
    high_risk_label: str
    high_risk_since: str
    closing_reason: str  # its label once closed with a reason, "" otherwise
    closing_choices: list[StageChoice]  # the reasons the close form offers

    @property
    def closed(self) -> bool:
        return self.status == CaseCondition.CLOSED.value


@dataclass(frozen=True)
class FormatChoice:
    value: str
    label: str
    checked: bool


@dataclass(frozen=True)
class ParticipantView:
    id: str
    side: str
    side_label: str
    sealed_name: str
    joined_on: str | None  # None: not joined
    invitation_expires_on: str | None  # an invitation waits for them
    consented_formats: list[str]  # labels, in the order of FORMATS
    consented_on: str | None  # None: no consent recorded
    withdrawn_on: str | None
    account_id: str | None
    public_key: str | None  # their account's current public key (base64url), once joined
    signing_public_key: str | None  # its signing key, once registered (security numbers)
    verified_public_key: str | None  # the key a facilitator compared in person, if any
    verified_on: str  # when the current key was compared in person, or ""
    formats: list[FormatChoice]
    actions: frozenset[ParticipantAction]
    supporters: list[SupporterView]
    may_add_supporter: bool  # the case is not closed and they have not withdrawn
    supporter_request: RequestView | None  # they asked for one, and nobody has closed it

    @property
    def call_name(self) -> str:
        """What a sentence calls them until their name is unlocked: "the person harmed"."""
        return f"the {self.side_label.lower()}"

    @property
    def start_name(self) -> str:
        """The same at the start of a sentence."""
        return f"The {self.side_label.lower()}"

    @property
    def may_invite(self) -> bool:
        return ParticipantAction.INVITE in self.actions

    @property
    def may_record_consent(self) -> bool:
        return ParticipantAction.RECORD_CONSENT in self.actions

    @property
    def may_enter_for(self) -> bool:
        """Not joined: a facilitator can enter a letter for them (messages/entered.py); the
        page it links to says why not when their consent is still missing."""
        return ParticipantAction.ENTER_FOR in self.actions

    @property
    def may_mark_verified(self) -> bool:
        return ParticipantAction.MARK_VERIFIED in self.actions and self.public_key is not None

    @property
    def may_rekey(self) -> bool:
        """A code for a new key, after a lost password and recovery code."""
        return ParticipantAction.REKEY in self.actions and self.public_key is not None

    @property
    def needs_case_key(self) -> bool:
        """Joined, but nobody has given them the case's public key yet: the facilitator's
        browser gives it (it needs the case key, which only browsers hold)."""
        return ParticipantAction.GIVE_CASE_KEY in self.actions and self.public_key is not None


def case_view(case: Case) -> CaseView:
    return CaseView(
        id=case.id,
        reference=case.reference,
        label=case.label,
        status=case.status.value,
        status_words=STATUS_WORDS[case.status],
        actions=case_actions(case.status),
        high_risk=case.high_risk.value if case.high_risk else "",
        high_risk_label=case.high_risk.label if case.high_risk else "",
        high_risk_since=date_text(case.high_risk_changed_at) if case.high_risk else "",
        closing_reason=case.closing_reason.label if case.closing_reason else "",
        closing_choices=CLOSING_CHOICES,
    )


def participant_view(
    db: Session,
    case: Case,
    participant: Participant,
    supporters: list[SupporterView] | None = None,
) -> ParticipantView:
    """``supporters``: theirs, when the caller read every participant's at once."""
    if supporters is None:
        supporters = views_by_participant(db, case, [participant])[participant.id]
    b64 = protocol.b64encode
    account = participant.account
    current_key = account.public_key if account else None
    accepted = participant.accepted_formats
    consented = participant.consent_recorded_at is not None
    pending = None if account else invitations.pending_invitation(db, participant)
    verified_now = current_key is not None and participant.verified_public_key == current_key
    return ParticipantView(
        id=participant.id,
        side=participant.side.value,
        side_label=participant.side.label,
        sealed_name=b64(participant.display_name),
        joined_on=date_text(participant.joined_at) if account else None,
        invitation_expires_on=date_text(pending.expires_at) if pending else None,
        consented_formats=[f.label for f in Format if f in accepted],
        consented_on=date_text(participant.consent_recorded_at) if consented else None,
        withdrawn_on=date_text(participant.withdrawn_at) if participant.withdrawn_at else None,
        account_id=account.id if account else None,
        public_key=b64(current_key) if current_key else None,
        signing_public_key=b64(account.signing_public_key)
        if account and account.signing_public_key
        else None,
        verified_public_key=b64(participant.verified_public_key)
        if participant.verified_public_key
        else None,
        verified_on=date_text(participant.key_verified_at) if verified_now else "",
        formats=[FormatChoice(f.value, f.label, consented and f in accepted) for f in Format],
        actions=cases.actions_for(case, participant),
        supporters=supporters,
        may_add_supporter=case.status is not CaseCondition.CLOSED
        and participant.withdrawn_at is None,
        supporter_request=open_request_view(db, participant),
    )


@dataclass(frozen=True)
class TeamMember:
    account_id: str
    name: str  # sign-in name: staff are known to each other by it
    added_on: str
    added_by: str | None  # None: they opened the case


def team_context(db: Session, case: Case) -> dict[str, Any]:
    """The case's facilitators and the colleagues who could be added (case page, "Facilitators")."""
    added_by = aliased(Account)
    rows = db.execute(
        select(CaseFacilitator, Account.sign_in_name, added_by.sign_in_name)
        .join(Account, Account.id == CaseFacilitator.account_id)
        .outerjoin(added_by, added_by.id == CaseFacilitator.added_by_id)
        .where(CaseFacilitator.case_id == case.id)
        .order_by(CaseFacilitator.added_at, Account.sign_in_name)
    ).all()
    team = [
        TeamMember(member.account_id, name, date_text(member.added_at), by)
        for member, name, by in rows
    ]
    # Whether a member's account is disabled does not matter to what this page offers.
    standing = TeamStanding(len(team), case.key_change_since is not None, len(team))
    return {
        "case": case_view(case),
        "team": team,
        "colleagues": []
        if case.status is CaseCondition.CLOSED
        else cases.colleagues_to_add(db, case),
        # What the team section offers now (cases/states.py team_refusal): removing someone
        # (myself included, while someone else stays), and handing the case over.
        "may_remove": team_refusal(case.status, standing, TeamAction.REMOVE) is None,
        "may_add": team_refusal(case.status, standing, TeamAction.ADD) is None,
        # A facilitator left and the next key epoch is not made yet: this page's script makes
        # it (static/js/pages/case.js), from the epoch after ``key_epoch``.
        "key_change_since": case.key_change_since,
        "key_epoch": case.key_epoch,
    }


def case_page(db: Session, case: Case) -> dict[str, Any]:
    """The whole page's context. The participants come with their accounts in one more
    statement (not one each)."""
    participants = db.scalars(
        select(Participant)
        .where(Participant.case_id == case.id)
        .order_by(Participant.created_at)
        .options(selectinload(Participant.account))
    ).all()
    helpers = views_by_participant(db, case, list(participants))
    return {
        **team_context(db, case),
        "path": path_view(db, case),
        "participants": [participant_view(db, case, p, helpers[p.id]) for p in participants],
    }
