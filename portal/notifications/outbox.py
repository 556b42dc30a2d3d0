"""Sending the queued notices: the maintenance job "notices" (portal/maintenance.py).

Each person's due notices go as one mail, in one short transaction of its own: it claims the
person's preference row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two runners never take
the same person; on SQLite the write lock taken at BEGIN does it), sends, and marks the notices
sent before it commits. A failed send marks them for a retry after a backoff instead. A crash
between the server accepting a mail and the commit is the one way a notice could go twice;
nothing is ever lost. Sent notices are kept a while, then forgotten; the person's dated list of
what happened reads their events (``AccountEvent``), not the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from portal import local_time
from portal.notifications import mail as mails
from portal.notifications import rules
from portal.notifications.models import Frequency, Notice, NoticeEvent, NoticePreference
from portal.settings import Settings, SmtpSettings

log = logging.getLogger("portal.notifications")

# People per run: each is one short transaction (and one mail) of its own.
PEOPLE_PER_RUN = 50
# Sent notices stay this long (what went lately, for someone looking into a complaint that a
# mail came twice); the person's own list reads their events, kept longer (EVENTS_KEPT).
SENT_KEPT = timedelta(days=30)

Sender = Callable[[SmtpSettings, EmailMessage], None]


@dataclass
class OutboxReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0

    def count(self, outcome: str) -> None:
        if outcome == "sent":
            self.sent += 1
        elif outcome == "deferred":
            self.deferred += 1
        elif outcome == "failed":
            self.failed += 1

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.deferred} waiting for their time, {self.failed} to retry"


def _due_people(db: Session, now: datetime, limit: int) -> list[str]:
    return list(
        db.scalars(
            select(Notice.account_id)
            .where(Notice.sent_at.is_(None), Notice.next_attempt_at <= now)
            .group_by(Notice.account_id)
            .order_by(Notice.account_id)
            .limit(limit)
        )
    )


def _quiet(found: NoticePreference) -> rules.QuietHours | None:
    if found.quiet_from_minute is None or found.quiet_to_minute is None:
        return None
    return rules.QuietHours(found.quiet_from_minute, found.quiet_to_minute)


def _send_to_one(
    db: Session, smtp: SmtpSettings, zone: tzinfo, account_id: str, now: datetime, send: Sender
) -> str:
    """One person's due notices: "sent", "deferred", "failed" or "" (taken, or none left)."""
    found = db.scalars(
        select(NoticePreference)
        .where(NoticePreference.account_id == account_id)
        .with_for_update(skip_locked=True)
    ).one_or_none()
    if found is None:
        return ""  # another runner has this person now, or they just turned notices off
    due = list(
        db.scalars(
            select(Notice).where(
                Notice.account_id == account_id,
                Notice.sent_at.is_(None),
                Notice.next_attempt_at <= now,
            )
        )
    )
    if not due:
        return ""  # another runner sent them while this one was looking
    asked_for_a_test = any(notice.event is NoticeEvent.TEST for notice in due)
    if not asked_for_a_test:
        not_before = rules.send_not_before(
            now,
            zone,
            quiet=_quiet(found),
            digest=found.frequency is Frequency.DIGEST,
            last_sent=found.last_sent_at,
        )
        if not_before > now:
            for notice in due:
                notice.next_attempt_at = not_before
            return "deferred"
    only_a_test = all(notice.event is NoticeEvent.TEST for notice in due)
    try:
        send(smtp, mails.notice_mail(smtp, found.email, test=only_a_test, now=now))
    except mails.MailNotSent as failure:
        for notice in due:
            notice.attempts += 1
            notice.next_attempt_at = now + rules.retry_after(notice.attempts)
        # Ids and the kind of failure only: never the address.
        log.warning("notice to account %s not sent (%s); retried later", account_id, failure.kind)
        return "failed"
    for notice in due:
        notice.sent_at = now
    if not only_a_test:
        found.last_sent_at = now
    return "sent"


def send_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    *,
    send: Sender = mails.send,
    limit: int = PEOPLE_PER_RUN,
    keep_going: Callable[[], bool] = lambda: True,
) -> OutboxReport:
    """Send every due notice (up to ``limit`` people), each person in a transaction of its own;
    then forget sent notices older than SENT_KEPT."""
    report = OutboxReport()
    smtp = settings.smtp
    if smtp is None:
        return report
    zone = local_time.zone_named(settings.time_zone)
    with sessions() as db:
        people = _due_people(db, now, limit)
    for account_id in people:
        with sessions() as db:
            outcome = _send_to_one(db, smtp, zone, account_id, now, send)
            db.commit()
        report.count(outcome)
        if not keep_going():
            return report
    with sessions() as db:
        db.execute(delete(Notice).where(Notice.sent_at < now - SENT_KEPT))
        db.commit()
    return report
