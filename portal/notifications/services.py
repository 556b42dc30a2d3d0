"""Notice preferences, and queueing a notice inside the transaction of the change it is about.

Accounts are named by id: this domain sits just above ``audit``, so that every domain where
something happens can queue a notice (``cases/services.queue_notice_for_facilitators`` finds a
case's facilitators). ``queue`` only inserts outbox rows for people who turned notices on: it
takes no lock and sends nothing, so a change that rolls back queues nothing, and no request
waits on mail. The runner (``outbox.py``) sends them.

    PortalError
    └── NoticesUnavailable (409)  no mail server is set up for the service
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict
from portal.notifications.models import Frequency, Notice, NoticeEvent, NoticePreference
from portal.notifications.rules import QuietHours
from portal.settings import Settings

# One plain ASCII address, nothing else: no display name, no list, no line break (it goes into
# a header), nothing a mail server without SMTPUTF8 would refuse for ever.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
ADDRESS_MAX = 254
RECENT_SHOWN = 10


class NoticesUnavailable(Conflict):
    default_message = "Notices by e-mail are not set up for this service."


@dataclass(frozen=True)
class Choice:
    """What a person chose on the notices page (checked)."""

    email: str
    frequency: Frequency
    quiet: QuietHours | None


def checked_address(raw: str) -> str:
    """The address, or BadInput that never repeats what was typed."""
    address = raw.strip()
    if len(address) > ADDRESS_MAX or not ADDRESS.fullmatch(address):
        raise BadInput("Enter one e-mail address, such as name@example.org.", field="email")
    return address


def preference_of(db: Session, account_id: str) -> NoticePreference | None:
    return db.get(NoticePreference, account_id)


def save(db: Session, settings: Settings, account_id: str, choice: Choice) -> None:
    """Turn notices on, or change how and when; the person's queued notices are looked at
    again by the next run under the new choice."""
    if settings.smtp is None:
        raise NoticesUnavailable
    found = preference_of(db, account_id)
    if found is None:
        found = NoticePreference(account_id=account_id)
        _choose(found, choice)
        try:
            # Turned on twice at once (a double click, two tabs): the second is told, not a 500.
            with db.begin_nested():
                db.add(found)
        except IntegrityError:
            raise Conflict(
                "Your notices were changed at the same moment. Please reload the page."
            ) from None
        tag = AuditTag.NOTICES_TURNED_ON
    else:
        lock_row(db, found)
        _choose(found, choice)
        db.flush()
        tag = AuditTag.NOTICES_CHANGED
    db.execute(
        update(Notice)
        .where(Notice.account_id == account_id, Notice.sent_at.is_(None))
        .values(next_attempt_at=utcnow())
    )
    record(db, settings, tag, actor_id=account_id, subject_id=account_id)


def _choose(found: NoticePreference, choice: Choice) -> None:
    found.email = choice.email
    found.frequency = choice.frequency
    found.quiet_from_minute = choice.quiet.start if choice.quiet else None
    found.quiet_to_minute = choice.quiet.end if choice.quiet else None


def turn_off(
    db: Session, settings: Settings, account_id: str, *, actor_id: str | None = None
) -> bool:
    """Erase the address and everything queued (the rows, not a flag); True if it was on.

    Allowed even when no mail server is set up: an address must always be removable.
    ``actor_id``: who turned them off, if not the person (a service manager closing it)."""
    found = preference_of(db, account_id)
    if found is None:
        return False
    lock_row(db, found)
    # The foreign key cascades too; said here so it holds whatever the database does.
    db.execute(delete(Notice).where(Notice.account_id == account_id))
    db.delete(found)
    db.flush()
    record(
        db,
        settings,
        AuditTag.NOTICES_TURNED_OFF,
        actor_id=actor_id or account_id,
        subject_id=account_id,
    )
    return True


def queue_test(db: Session, settings: Settings, account_id: str) -> None:
    """A test notice, asked for: sent by the next run whatever the quiet hours or digest."""
    if settings.smtp is None:
        raise NoticesUnavailable
    if preference_of(db, account_id) is None:
        raise Conflict("Turn notices on first, then send yourself a test.")
    queue(db, settings, [account_id], NoticeEvent.TEST)


def queue(
    db: Session,
    settings: Settings,
    account_ids: Iterable[str | None],
    event: NoticeEvent,
    *,
    now: datetime | None = None,
    subject_id: str | None = None,
) -> int:
    """Queue ``event`` for each of ``account_ids`` who has notices on; how many were queued.

    Called inside the transaction of the change itself, after it was made."""
    if settings.smtp is None:
        return 0
    wanted = {account_id for account_id in account_ids if account_id is not None}
    if not wanted:
        return 0
    on = db.scalars(
        select(NoticePreference.account_id).where(NoticePreference.account_id.in_(wanted))
    ).all()
    at = now or utcnow()
    for account_id in sorted(on):
        db.add(
            Notice(
                account_id=account_id,
                event=event,
                subject_id=subject_id,
                created_at=at,
                next_attempt_at=at,
            )
        )
    return len(on)


def queue_once(
    db: Session,
    settings: Settings,
    account_ids: Iterable[str],
    event: NoticeEvent,
    subject_id: str,
) -> int:
    """Queue ``event`` about ``subject_id`` for each who has notices on and was not queued it
    about that subject before (sent notices are kept 30 days: outbox.SENT_KEPT)."""
    told = set(
        db.scalars(
            select(Notice.account_id).where(Notice.event == event, Notice.subject_id == subject_id)
        )
    )
    wanted = [account_id for account_id in account_ids if account_id not in told]
    return queue(db, settings, wanted, event, subject_id=subject_id)


@dataclass(frozen=True)
class RecentNotice:
    at: datetime
    words: str


EVENT_WORDS = {
    NoticeEvent.WAITING_FOR_YOU: "Something is waiting for you",
    NoticeEvent.RETURNED_WITH_SUGGESTIONS: "Your letter came back with suggestions",
    NoticeEvent.SUPPORTER_INVITED: "A supporter was invited for you",
    NoticeEvent.WAITING_FOR_REVIEW: "Something is waiting for review",
    NoticeEvent.WAITING_FOR_SECOND_APPROVAL: "Something is waiting for a second approval",
    NoticeEvent.WITHDRAWAL: "Someone withdrew something, or from the process",
    NoticeEvent.DECLINE: "Something was declined",
    NoticeEvent.KEY_TO_VERIFY: "A key needs comparing in person",
    NoticeEvent.SECURITY_EVENT: "A security event on your account",
    # Quick exit makes a browser forget that it signed in (docs/security.md, "Known browsers").
    NoticeEvent.NEW_BROWSER_SIGN_IN: "A sign-in from a browser not used before, or since a "
    "quick exit there",
    NoticeEvent.REFERRAL_OVERDUE: "A referral is past its first-contact target",
    NoticeEvent.TEST: "A test notice you asked for",
}


def recent_for(db: Session, account_id: str, limit: int = RECENT_SHOWN) -> list[RecentNotice]:
    """What this person was (or will be) told about lately, newest first, for the page; the
    words stay in the portal, never in a mail."""
    rows = db.execute(
        select(Notice.created_at, Notice.event)
        .where(Notice.account_id == account_id)
        .order_by(Notice.created_at.desc(), Notice.id)
        .limit(limit)
    ).all()
    return [RecentNotice(at, EVENT_WORDS[event]) for at, event in rows]
