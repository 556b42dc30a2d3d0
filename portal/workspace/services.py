"""What the workspace pages show, gathered from each domain's services. Reads only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.accounts import services as accounts
from portal.accounts.models import Account
from portal.audit.services import events_about
from portal.cases import policy as case_policy
from portal.cases.models import Case, Participant
from portal.invitations import services as invitations
from portal.messages import labels
from portal.messages import services as messages


def participant_home(db: Session, account: Account) -> dict[str, Any] | None:
    """A participant's home: their letters, what waits for them, whether they can write."""
    participant = case_policy.participation(db, account)
    if participant is None:
        return None
    case = participant.case
    why_not = messages.why_cannot_write(case, participant)
    return {
        "participant": {
            "side_label": participant.side.label,
            "withdrawn": participant.withdrawn_at is not None,
        },
        "case_status": case.status.value,
        "letters": [
            {
                "id": m.id,
                "state_label": labels.author_label(m.state, may_see_opened=m.author_may_see_opened),
                "submitted_text": m.submitted_at.strftime("%d %b %Y"),
            }
            for m in messages.letters_by(db, participant)
        ],
        # Only a neutral notice for each: never what it is, how long, or who wrote it.
        "waiting": [
            {"id": m.id, "words": labels.FOR_RECIPIENT[m.state]}
            for m in messages.letters_for(db, participant)
        ],
        "can_write": why_not is None,
        "why_not": why_not,
    }


def facilitator_home(db: Session, account: Account) -> dict[str, Any]:
    return {
        "queue_count": len(messages.queue_for(db, account)),
        "withdrawals": case_policy.recent_withdrawals(db, account),
    }


def case_rows(db: Session, facilitator: Account) -> list[dict[str, Any]]:
    """The facilitator's cases, newest first, with how many letters wait in each."""
    cases = case_policy.cases_facilitated_by(db, facilitator)
    waiting = messages.waiting_counts(db, [c.id for c in cases])
    return [
        {
            "id": case.id,
            "reference": case.reference,
            "label": case.label,
            "status": case.status.value,
            "joined": sum(1 for p in case.participants if p.account_id is not None),
            "participants": len(case.participants),
            "waiting": waiting.get(case.id, 0),
        }
        for case in cases
    ]


def participants_with_invitations(db: Session, case: Case) -> list[tuple[Participant, bool]]:
    """Each participant, and whether an invitation for them is waiting to be used."""
    return [(p, invitations.pending_invitation(db, p) is not None) for p in case.participants]


def case_audit(db: Session, case: Case) -> list[dict[str, Any]]:
    """The audit trail of a case, its participants and its letters, oldest first, in words."""
    participant_ids = [p.id for p in case.participants]
    message_ids = messages.message_ids_in(db, case)
    events = events_about(db, [case.id, *participant_ids, *message_ids])
    names = _actor_names(db, case, {e.actor_id for e in events if e.actor_id})
    kinds = {
        case.id: "Case",
        **dict.fromkeys(participant_ids, "Participant"),
        **dict.fromkeys(message_ids, "Letter"),
    }
    return [
        {
            "at": event.at,
            "label": event.tag.replace(":", " ").replace("-", " ").capitalize(),
            "actor": names.get(event.actor_id or "", "The portal"),
            "subject": _subject_label(kinds, event.subject_id),
        }
        for event in events
    ]


def _subject_label(kinds: dict[str, str], subject_id: str | None) -> str:
    if subject_id is None:
        return ""
    return f"{kinds.get(subject_id, 'Item')} {subject_id[:8]}"


def _actor_names(db: Session, case: Case, ids: set[str]) -> dict[str, str]:
    """Staff by sign-in name; participants by their side only (their names are sealed)."""
    sides = {p.account_id: p.side.label.lower() for p in case.participants if p.account_id}
    names: dict[str, str] = {}
    for account in accounts.accounts_with_ids(db, ids):
        if account.id in sides:
            names[account.id] = f"Participant ({sides[account.id]})"
        else:
            names[account.id] = account.sign_in_name
    return names
