"""Offering feedback after a case closes, and keeping the answer detached. Never commits.

Who is offered: each participant and each supporter (whose access was not taken away) with an
account, once their case is closed, until they answer or dismiss it; never a participant who
withdrew, nor their supporters: withdrawing stops everything, and a form asking how it went
would be the portal coming back to someone who said stop. The answer is written
without the case, the person, the account or a time finer than the month; the offer row only
says that it was answered. Nothing is written to the audit log: its rows carry the actor and
the exact time, which would say who answered when (docs/security.md, "Feedback").

Errors: BadInput (the sealed text is not to the current referral key, or of a wrong size),
Conflict (already answered or dismissed), NotFound (nothing is offered to this account).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import local_time, paging
from portal.accounts.models import Account
from portal.cases import policy as case_policy
from portal.cases.models import Case, CaseCondition, Participant, Side, Supporter
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.feedback.models import FeedbackAnswer, FeedbackOffer, OfferOutcome, RoleCategory
from portal.feedback.schemas import NOT_SEALED, Answers
from portal.referrals.services import SEALED_SIZES, current_key

ALREADY = "You have already answered or chosen not to. Thank you."


@dataclass(frozen=True)
class Place:
    """Where this account took part: the closed case's id and their role category, and the
    row that is locked while they answer (their participant or supporter row)."""

    case: Case
    role: RoleCategory
    row: Participant | Supporter


def _place(db: Session, account: Account) -> Place | None:
    participant = case_policy.participation(db, account)
    if participant is not None:
        if participant.withdrawn_at is not None:
            return None
        role = (
            RoleCategory.PERSON_HARMED
            if participant.side is Side.PERSON_HARMED
            else RoleCategory.PERSON_RESPONSIBLE
        )
        return Place(participant.case, role, participant)
    supporter = case_policy.support_place(db, account)
    if (
        supporter is not None
        and supporter.revoked_at is None
        and supporter.participant.withdrawn_at is None
    ):
        return Place(supporter.participant.case, RoleCategory.SUPPORTER, supporter)
    return None


def _responded(db: Session, place: Place, account: Account) -> FeedbackOffer | None:
    return db.get(FeedbackOffer, (place.case.id, account.id))


def open_offer(db: Session, account: Account) -> Place | None:
    """The place whose feedback this account is offered now, or None."""
    place = _place(db, account)
    if place is None or place.case.status is not CaseCondition.CLOSED:
        return None
    return None if _responded(db, place, account) is not None else place


def _offered(db: Session, account: Account) -> Place:
    """The open offer, held: this person's row is locked, so two answers sent at once cannot
    both find it open (the second waits, then finds the first's offer row)."""
    place = _place(db, account)
    if place is None or place.case.status is not CaseCondition.CLOSED:
        raise NotFound("There is no feedback to give here.")
    lock_row(db, place.row)
    if _responded(db, place, account) is not None:
        raise Conflict(ALREADY)
    return place


def this_month() -> str:
    """The month an answer keeps, in the service's time zone: never a finer time."""
    return local_time.local(utcnow()).strftime("%Y-%m")


def answer(db: Session, account: Account, given: Answers) -> None:
    """Keep ``given`` detached from this account and its case, and mark the offer answered."""
    place = _offered(db, account)
    if given.sealed_text is not None:
        key = current_key(db)
        if key is None or key.id != given.key_id:
            raise Conflict(
                "The service's key changed while the page was open. Please copy what you wrote, "
                "reload the page and send it again."
            )
        if len(given.sealed_text) not in SEALED_SIZES:
            raise BadInput(NOT_SEALED, field="ciphertext")
    db.add(
        FeedbackOffer(case_id=place.case.id, account_id=account.id, outcome=OfferOutcome.ANSWERED)
    )
    db.add(
        FeedbackAnswer(
            month=this_month(),
            role=place.role,
            satisfied=given.satisfied,
            recommend=given.recommend,
            better_able=given.better_able,
            key_id=given.key_id,
            sealed_text=given.sealed_text,
        )
    )


def dismiss(db: Session, account: Account) -> None:
    """This account does not want to give feedback: never offered again."""
    place = _offered(db, account)
    db.add(
        FeedbackOffer(case_id=place.case.id, account_id=account.id, outcome=OfferOutcome.DISMISSED)
    )


@dataclass(frozen=True)
class SealedText:
    month: str
    key_id: str
    sealed: bytes


# Free texts a page of "What participants said" shows.
TEXTS_PAGE = 25


def sealed_texts_page(db: Session, number: int) -> paging.Page[SealedText]:
    """One page of the free texts kept, with their month and key. Ordered by the answers'
    random ids: an order that stays the same from page to page (nothing is shown twice or
    skipped) yet says nothing of when each was given (the caller shuffles each page too)."""
    query = (
        select(FeedbackAnswer.id)
        .where(FeedbackAnswer.sealed_text.is_not(None), FeedbackAnswer.key_id.is_not(None))
        .order_by(FeedbackAnswer.id)
    )
    ids = paging.scalars_page(db, query, number, TEXTS_PAGE)
    rows = db.execute(
        select(FeedbackAnswer.month, FeedbackAnswer.key_id, FeedbackAnswer.sealed_text).where(
            FeedbackAnswer.id.in_(ids.items)
        )
    )
    return ids.with_items(
        [SealedText(month, key_id or "", sealed or b"") for month, key_id, sealed in rows]
    )
