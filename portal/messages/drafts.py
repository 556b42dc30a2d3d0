"""Autosaved drafts: sealed to their author's own key in the browser, opaque here. Never
commits. A draft belongs to one account; anyone else's draft id is simply not found."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.cases.models import Participant
from portal.content import quota
from portal.content.models import Draft
from portal.db import utcnow
from portal.errors import Conflict, NotFound
from portal.settings import Settings


def drafts_of(db: Session, account: Account) -> list[Draft]:
    """The account's drafts, the most recently saved first."""
    return list(
        db.scalars(
            select(Draft).where(Draft.account_id == account.id).order_by(Draft.updated_at.desc())
        )
    )


# Drafts one person keeps at most: each can be close to a megabyte, and the browser keeps one per
# letter being written, so more than this means something is wrong rather than busy.
MAX_DRAFTS_PER_ACCOUNT = 20


def save(
    db: Session,
    settings: Settings,
    account: Account,
    author: Participant,
    draft_id: str,
    blob: bytes,
    *,
    revises_message_id: str | None,
) -> Draft:
    """Create or replace the draft ``draft_id`` (an id the browser made).

    ``revises_message_id`` must already have been checked to be one of the author's messages.
    It counts towards the case's storage (content/quota.py); nothing is kept over the limits.
    """
    draft = db.get(Draft, draft_id)
    if draft is not None and draft.account_id != account.id:
        raise NotFound
    if draft is None and len(drafts_of(db, account)) >= MAX_DRAFTS_PER_ACCOUNT:
        raise Conflict(
            f"You already have {MAX_DRAFTS_PER_ACCOUNT} unsent letters saved. Please send or "
            "delete one of them first; this one was not saved."
        )
    if draft is None:
        draft = Draft(
            id=draft_id,
            account_id=account.id,
            case_id=author.case_id,
            blob=blob,
            revises_message_id=revises_message_id,
            updated_at=utcnow(),
        )
        db.add(draft)
    else:
        draft.blob = blob
        draft.updated_at = utcnow()
    db.flush()
    quota.require_room(db, settings, author.case_id, what="this draft")
    return draft


def delete_draft(db: Session, account: Account, draft_id: str) -> None:
    db.execute(delete(Draft).where(Draft.id == draft_id, Draft.account_id == account.id))


def forget_all(db: Session, account: Account) -> None:
    """After a re-key: drafts are sealed to the old key only, which nobody holds any more, so
    nothing could ever open them (the person is told so when they set up their new key)."""
    db.execute(delete(Draft).where(Draft.account_id == account.id))


def drop_sent(db: Session, account: Account, draft_id: str | None) -> None:
    """The draft a letter was written from, once the letter is sent (if the browser named one)."""
    if draft_id is not None:
        delete_draft(db, account, draft_id)
