"""Notice preferences, and queueing a notice inside the transaction of the change it is about.

Accounts are named by id: this domain sits just above ``audit``, so that every domain where
something happens can queue a notice (``cases/services.queue_notice_for_facilitators`` finds a
case's facilitators). ``queue`` records the event for everyone it concerns (``AccountEvent``:
their own dated list on their home, notices on or off, mail server or none) and inserts outbox
rows for those who turned notices on: it takes no lock and sends nothing, so a change that
rolls back records and queues nothing, and no request waits on mail. The runner
(``outbox.py``) sends them; the maintenance job ``account-events`` forgets events after
EVENTS_KEPT.

    PortalError
    └── NoticesUnavailable (409)  no mail server is set up for the service
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.db import HOME_TOUCHES, lock_row, utcnow
from portal.errors import BadInput, Conflict
from portal.notifications.models import (
    AccountEvent,
    Frequency,
    Notice,
    NoticeEvent,
    NoticePreference,
)
from portal.notifications.rules import QuietHours
from portal.paging import Page, scalars_page
from portal.settings import Settings

# One plain ASCII address, nothing else: no display name, no list, no line break (it goes into
# a header), nothing a mail server without SMTPUTF8 would refuse for ever.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
ADDRESS_MAX = 254
# A home shows the newest few events; the notices page lists them all, a page at a time.
HOME_SHOWN = 5
EVENTS_PER_PAGE = 20
# Events are kept 90 days: long enough that someone who signs in once a month or two still
# sees, with its date, what happened since; short enough that the list of when things
# happened to a person (metadata, but telling) does not grow into a lasting record of the
# process. Nothing reads them after that: the audit log is the record.
EVENTS_KEPT = timedelta(days=90)


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
    """Record ``event`` for each of ``account_ids``, and queue a notice of it for each who has
    notices on (if a mail server is set up); how many notices were queued.

    Called inside the transaction of the change itself, after it was made. A test notice is
    not an event: it is only queued."""
    wanted = {account_id for account_id in account_ids if account_id is not None}
    if not wanted:
        return 0
    at = now or utcnow()
    if event is not NoticeEvent.TEST:
        for account_id in sorted(wanted):
            db.add(
                AccountEvent(
                    account_id=account_id, event=event, subject_id=subject_id, created_at=at
                )
            )
    if settings.smtp is None:
        return 0
    on = db.scalars(
        select(NoticePreference.account_id).where(NoticePreference.account_id.in_(wanted))
    ).all()
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
    """Record ``event`` about ``subject_id`` (and queue its notice) for each who was not told of
    it about that subject before: events are kept EVENTS_KEPT, longer than anything is told
    again (and migration 0025 copied the notices queued before it into events)."""
    wanted = set(account_ids)
    if not wanted:
        return 0
    # Through the person's own events (ix_account_events_account), not the whole table.
    told = set(
        db.scalars(
            select(AccountEvent.account_id).where(
                AccountEvent.account_id.in_(wanted),
                AccountEvent.event == event,
                AccountEvent.subject_id == subject_id,
            )
        )
    )
    return queue(db, settings, sorted(wanted - told), event, subject_id=subject_id)


@dataclass(frozen=True)
class RecentEvent:
    """One line of a person's "What happened lately": when, and the neutral words."""

    at: datetime
    words: str


# Neutral words for each event: someone may be looking over the person's shoulder, so no case,
# no name, nothing of what was written. Every NoticeEvent has its words
# (tests/unit/notifications/test_events.py).
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


def _shown(row: AccountEvent) -> RecentEvent:
    return RecentEvent(row.created_at, EVENT_WORDS[row.event])


def _events_of(account_id: str) -> Select[AccountEvent]:
    return (
        select(AccountEvent)
        .where(AccountEvent.account_id == account_id)
        .order_by(AccountEvent.created_at.desc(), AccountEvent.id.desc())
    )


def recent_events(db: Session, account_id: str, limit: int = HOME_SHOWN) -> list[RecentEvent]:
    """The newest events of this person, newest first, for their home (one bounded statement,
    ix_account_events_account)."""
    return [_shown(row) for row in db.scalars(_events_of(account_id).limit(limit))]


def events_page(db: Session, account_id: str, number: int) -> Page[RecentEvent]:
    """One page of everything this person's list holds (the last EVENTS_KEPT), newest first."""
    return scalars_page(db, _events_of(account_id), number, EVENTS_PER_PAGE).map(_shown)


def prune_events(db: Session, *, before: datetime, limit: int) -> int:
    """Remove up to ``limit`` events recorded before ``before``; how many. Run by the
    maintenance job, in batches (ix_account_events_created)."""
    rows = db.execute(
        select(AccountEvent.id, AccountEvent.account_id)
        .where(AccountEvent.created_at < before)
        .limit(limit)
    ).all()
    if rows:
        db.execute(
            delete(AccountEvent)
            .where(AccountEvent.id.in_([row.id for row in rows]))
            .execution_options(**{HOME_TOUCHES: {"accounts": {row.account_id for row in rows}}})
        )
    return len(rows)
