"""What the workspace pages show, gathered from each domain's services. Reads only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal import local_time, paging
from portal.accounts import services as accounts
from portal.accounts.models import Account
from portal.audit.services import events_about
from portal.cases import policy as case_policy
from portal.cases import services as cases
from portal.cases import supporters
from portal.cases.models import Case, CaseCondition, Participant, Supporter
from portal.casework import services as casework
from portal.invitations import services as invitations
from portal.messages import labels, regrants
from portal.messages import services as messages
from portal.messages.composing import NOT_SET_UP
from portal.paging import Page
from portal.workspace import supporters as supporter_pages


def participant_home(
    db: Session, account: Account, *, page: int = 1, waiting_page: int = 1
) -> dict[str, Any] | None:
    """A participant's home: a page of their letters, a page of what waits for them, and
    whether they can write."""
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
        "letters": messages.letters_by(db, participant, page).map(
            lambda m: {
                "id": m.id,
                "state_label": labels.for_author(m),
                "submitted_text": local_time.short_day(m.submitted_at),
                "on_behalf": labels.written_for(m, labels.Reader.PARTICIPANT),
            }
        ),
        # Only a neutral notice for each: never what it is, how long, or who wrote it.
        "waiting": messages.letters_for(db, participant, waiting_page).map(
            lambda m: {"id": m.id, "words": labels.FOR_RECIPIENT[m.state]}
        ),
        "can_write": why_not is None,
        "why_not": why_not,
        # They can write, but sending waits for a facilitator's browser (the case key).
        "setting_up": why_not is None and participant.case_public_grant is None,
        "not_set_up": NOT_SET_UP,
        "supporters": supporter_pages.for_participant(db, participant),
        # Asking for one: offered while the case is open and they take part.
        "supporter_request": supporter_pages.open_request_view(db, participant),
        "may_request_supporter": case.status is not CaseCondition.CLOSED
        and participant.withdrawn_at is None,
        # After a new key: why they cannot read what was passed on to them (yet).
        "key_wait": regrants.why_waiting(db, participant),
    }


CASES_PAGE = 50


def case_rows(db: Session, facilitator: Account, page: int = 1) -> Page[dict[str, Any]]:
    """A page of the facilitator's cases, newest first, with how many participants each has
    (and how many joined) and how many letters wait: four statements, whatever the page."""
    found = paging.scalars_page(db, case_policy.cases_query(facilitator), page, CASES_PAGE)
    ids = [c.id for c in found.items]
    people = cases.participant_counts(db, ids)
    waiting = messages.waiting_counts(db, ids)
    return found.map(
        lambda case: {
            "id": case.id,
            "reference": case.reference,
            "label": case.label,
            "status": case.status.value,
            "stage": case.stage.label,
            "joined": people.get(case.id, (0, 0))[1],
            "participants": people.get(case.id, (0, 0))[0],
            "waiting": waiting.get(case.id, 0),
        }
    )


def participants_with_invitations(db: Session, case: Case) -> list[tuple[Participant, bool]]:
    """Each participant, and whether an invitation for them is waiting to be used."""
    return [(p, invitations.pending_invitation(db, p) is not None) for p in case.participants]


AUDIT_PAGE = 50


def case_audit(db: Session, case: Case, page: int = 1) -> Page[dict[str, Any]]:
    """A page of the audit trail of a case, its participants and its letters, oldest first, in
    words. The case's ids are few (its letters, its participants); the events are counted and
    cut into pages by the database (ix_audit_events_subject)."""
    participant_ids = [p.id for p in case.participants]
    helpers = supporters.supporters_of(db, participant_ids)
    supporter_ids = [s.id for s in helpers]
    message_ids = messages.message_ids_in(db, case)
    # Risk assessments, notes and agreement items (portal/casework): their ids, never words.
    records = casework.record_kinds(db, case)
    events = events_about(
        db,
        [case.id, *participant_ids, *supporter_ids, *message_ids, *records],
        page,
        AUDIT_PAGE,
    )
    names = _actor_names(db, case, helpers, {e.actor_id for e in events.items if e.actor_id})
    kinds = {
        case.id: "Case",
        **dict.fromkeys(participant_ids, "Participant"),
        **dict.fromkeys(supporter_ids, "Supporter"),
        **dict.fromkeys(message_ids, "Letter"),
        **records,
    }
    return events.map(
        lambda event: {
            "at": event.at,
            "label": event.tag.replace(":", " ").replace("-", " ").capitalize(),
            "actor": names.get(event.actor_id or "", "The portal"),
            "subject": _subject_label(kinds, event.subject_id),
        }
    )


def _subject_label(kinds: dict[str, str], subject_id: str | None) -> str:
    if subject_id is None:
        return ""
    return f"{kinds.get(subject_id, 'Item')} {subject_id[:8]}"


def _actor_names(
    db: Session, case: Case, helpers: list[Supporter], ids: set[str]
) -> dict[str, str]:
    """Staff by sign-in name; participants, supporters and representatives by their side only
    (their names are sealed, and a sign-in name they chose may name them)."""
    sides = {p.account_id: p.side.label.lower() for p in case.participants if p.account_id}
    helping = {
        s.account_id: f"{s.kind.label} ({s.participant.side.label.lower()}'s side)"
        for s in helpers
        if s.account_id
    }
    names: dict[str, str] = {}
    for account in accounts.accounts_with_ids(db, ids):
        if account.id in sides:
            names[account.id] = f"Participant ({sides[account.id]})"
        elif account.id in helping:
            names[account.id] = helping[account.id]
        else:
            names[account.id] = account.sign_in_name
    return names
