"""Security events: what a browser refused and reported (docs/api-trust.md, "Refusals").

A browser that could not confirm a case key, a grant, a release, an invitation or the trust log
as genuine opens nothing and reports it here. The report is an audit row tagged
``security:<kind>`` whose subject is the case it concerns (so the case's facilitators see it),
else the invitation, else nothing; every service manager sees them all. Reports are throttled
per account, or per address for someone joining (who has no session yet). Never commits.

It lives in the workspace because a report can name a case, a message or an invitation: the one
domain that may look at all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.accounts import throttle
from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.audit.services import latest_tagged, record
from portal.audit.tags import AuditTag
from portal.cases import policy as case_policy
from portal.cases import services as case_services
from portal.cases.models import Case, CaseFacilitator, Participant
from portal.errors import BadInput, NotFound, NotSignedIn
from portal.invitations import services as invitations
from portal.messages.models import Message
from portal.notifications.models import NoticeEvent
from portal.settings import Settings

# The kinds a browser reports (docs/api-trust.md), each its audit tag.
KINDS: dict[str, AuditTag] = {
    "case-key-not-genuine": AuditTag.SECURITY_CASE_KEY_NOT_GENUINE,
    "case-grant-not-genuine": AuditTag.SECURITY_CASE_GRANT_NOT_GENUINE,
    "release-not-genuine": AuditTag.SECURITY_RELEASE_NOT_GENUINE,
    "invitation-not-genuine": AuditTag.SECURITY_INVITATION_NOT_GENUINE,
    "trust-log-not-genuine": AuditTag.SECURITY_TRUST_LOG_NOT_GENUINE,
}
SECURITY_TAGS = [str(tag) for tag in KINDS.values()]

# What each event means, for the staff who see it on their home page.
WORDS: dict[str, str] = {
    AuditTag.SECURITY_CASE_KEY_NOT_GENUINE: "A case key could not be confirmed as signed by "
    "trusted staff, so it was not used.",
    AuditTag.SECURITY_CASE_GRANT_NOT_GENUINE: "A case key given to someone could not be "
    "confirmed as coming from trusted staff, so it was not used.",
    AuditTag.SECURITY_RELEASE_NOT_GENUINE: "Something sent to a participant could not be "
    "confirmed as coming from trusted staff, so it was not opened.",
    AuditTag.SECURITY_INVITATION_NOT_GENUINE: "An invitation could not be confirmed as "
    "genuine when someone tried to join with it. Nothing was redeemed.",
    AuditTag.SECURITY_TRUST_LOG_NOT_GENUINE: "Someone's browser was shown a list of trusted "
    "staff that does not match what it saw before.",
}


@dataclass(frozen=True)
class Report:
    """``kind`` (one of ``KINDS``) and what it concerns, each optional and checked."""

    kind: AuditTag
    case_id: str | None = None
    message_id: str | None = None
    lookup_id: str | None = None


def report(
    db: Session, settings: Settings, reporter: Account | None, address: str, event: Report
) -> AuditEvent:
    """Record a browser's report as ``security:<kind>``.

    A signed-in reporter may name only a case and a message they can reach (facilitating its
    case or taking part in it); anything else is NotFound, as everywhere. Without a session only
    an invitation that could not be confirmed can be reported, by its lookup id.
    """
    if event.lookup_id is not None and event.kind is not AuditTag.SECURITY_INVITATION_NOT_GENUINE:
        raise BadInput("Only an invitation report names a lookup id.", field="lookup_id")
    if event.kind is AuditTag.SECURITY_INVITATION_NOT_GENUINE and event.lookup_id is None:
        raise BadInput(field="lookup_id")
    if reporter is None and event.kind is not AuditTag.SECURITY_INVITATION_NOT_GENUINE:
        raise NotSignedIn
    secret = settings.secret_key.reveal()
    who = f"account:{reporter.id}" if reporter is not None else f"address:{address}"
    throttle.check_and_count_report(db, settings, throttle.report_key(secret, who))
    subject = _subject(db, reporter, event)
    recorded = record(
        db, settings, event.kind, actor_id=reporter.id if reporter else None, subject_id=subject
    )
    if subject is not None and db.get(Case, subject) is not None:
        case_services.queue_notice_for_facilitators(
            db, settings, subject, NoticeEvent.SECURITY_EVENT
        )
    return recorded


def _subject(db: Session, reporter: Account | None, event: Report) -> str | None:
    """The case the report concerns (checked against the reporter), else the invitation."""
    case_id: str | None = None
    if event.message_id is not None:
        message = db.get(Message, event.message_id)
        if message is None:
            raise NotFound
        case_id = message.case_id
    if event.case_id is not None:
        if case_id is not None and case_id != event.case_id:
            raise NotFound
        case_id = event.case_id
    if case_id is not None:
        if reporter is None or not _takes_part(db, reporter, case_id):
            raise NotFound
        return case_id
    if event.lookup_id is not None:
        invitation = invitations.invitation_by_lookup_id(db, event.lookup_id)
        if invitation is None:
            raise NotFound
        if invitation.participant_id is not None:
            participant = db.get(Participant, invitation.participant_id)
            if participant is not None:
                return participant.case_id
        return invitation.id
    return None


def _takes_part(db: Session, account: Account, case_id: str) -> bool:
    if account.role is Role.FACILITATOR:
        return db.get(CaseFacilitator, (case_id, account.id)) is not None
    participant = case_policy.participation(db, account)
    return participant is not None and participant.case_id == case_id


# ------------------------------------------------------------------------ home page lists


@dataclass(frozen=True)
class CaseRef:
    """A case as an event names it: enough for a link."""

    id: str
    reference: str


@dataclass(frozen=True)
class ShownEvent:
    at: datetime
    words: str
    case: CaseRef | None


EVENTS_SHOWN = 20


def events_about_query(
    facilitator_id: Any,
) -> Select[datetime, str, str | None, str, int]:
    """The newest security events about the facilitator's cases, each with its case's
    reference: (at, tag, case id, reference, event id). The facilitator's home builds it once
    (workspace/facilitator_home.py), ``facilitator_id`` a bound parameter."""
    return (
        select(AuditEvent.at, AuditEvent.tag, AuditEvent.subject_id, Case.reference, AuditEvent.id)
        .join(CaseFacilitator, case_policy.facilitated_by(AuditEvent.subject_id, facilitator_id))
        .outerjoin(Case, Case.id == AuditEvent.subject_id)
        .where(AuditEvent.tag.in_(SECURITY_TAGS))
        .order_by(AuditEvent.id.desc())
        .limit(EVENTS_SHOWN)
    )


def shown(at: datetime, tag: str, case_id: str | None, reference: str | None) -> ShownEvent:
    return ShownEvent(
        at=at,
        words=WORDS[tag],
        case=CaseRef(case_id, reference) if case_id and reference is not None else None,
    )


def events_for(db: Session, account: Account, *, limit: int = EVENTS_SHOWN) -> list[ShownEvent]:
    """The newest security events this member of staff sees: a service manager all of them, a
    facilitator those about their cases; nobody else any."""
    if account.role is Role.SERVICE_MANAGER:
        events = latest_tagged(db, SECURITY_TAGS, limit=limit)
    elif account.role is Role.FACILITATOR:
        # The facilitator's cases stay in the database (a subquery), however many they are.
        facilitated = case_policy.facilitated_ids(account)
        events = latest_tagged(db, SECURITY_TAGS, subject_ids=facilitated, limit=limit)
    else:
        return []
    # Only the cases the shown events name, in one statement (none when none is named).
    ids = {e.subject_id for e in events if e.subject_id}
    references = (
        {
            case_id: ref
            for case_id, ref in db.execute(select(Case.id, Case.reference).where(Case.id.in_(ids)))
        }
        if ids
        else {}
    )
    return [
        shown(event.at, event.tag, event.subject_id, references.get(event.subject_id or ""))
        for event in events
    ]


def context_for(db: Session, account: Account) -> dict[str, Any]:
    return {"security_events": events_for(db, account)}
