"""Each person's dated list of what happened (notifications/models.AccountEvent), on SQLite and
PostgreSQL: recorded for everyone an event concerns, notices on or off, mail server or none;
a notice queued only for those with notices on; told once per subject; the newest few for a
home, the whole list in pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Role
from portal.notifications import services
from portal.notifications.models import AccountEvent, Frequency, Notice, NoticeEvent
from portal.settings import Settings
from tests import rows
from tests.support.smtp import SmtpServer

MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def mail_settings(settings_env: dict[str, str], smtp_server: SmtpServer) -> Settings:
    return Settings.from_env({**settings_env, **smtp_server.env()})


def _events(db: Session, account_id: str) -> list[NoticeEvent]:
    return list(
        db.scalars(
            select(AccountEvent.event)
            .where(AccountEvent.account_id == account_id)
            .order_by(AccountEvent.created_at)
        )
    )


def _notices(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Notice)) or 0


def test_every_event_has_neutral_words() -> None:
    assert set(services.EVENT_WORDS) == set(NoticeEvent)
    for words in services.EVENT_WORDS.values():
        assert words[:1].isupper(), words
        assert not words.endswith("."), words


def test_without_a_mail_server_an_event_is_recorded_for_everyone_and_no_notice(
    db_session: Session, settings: Settings
) -> None:
    assert settings.smtp is None
    first, second = rows.account(db_session), rows.account(db_session, Role.FACILITATOR)
    queued = services.queue(
        db_session, settings, [first.id, None, second.id, first.id], NoticeEvent.WAITING_FOR_YOU
    )
    db_session.flush()
    assert queued == 0
    assert _events(db_session, first.id) == [NoticeEvent.WAITING_FOR_YOU]
    assert _events(db_session, second.id) == [NoticeEvent.WAITING_FOR_YOU]
    assert _notices(db_session) == 0


def test_with_a_mail_server_a_notice_is_queued_only_for_those_with_notices_on(
    db_session: Session, mail_settings: Settings
) -> None:
    on, off = rows.account(db_session), rows.account(db_session)
    services.save(
        db_session,
        mail_settings,
        on.id,
        services.Choice("on@mail.example", Frequency.EACH, None),
    )
    assert services.queue(db_session, mail_settings, [on.id, off.id], NoticeEvent.DECLINE) == 1
    db_session.flush()
    assert _events(db_session, on.id) == _events(db_session, off.id) == [NoticeEvent.DECLINE]
    assert list(db_session.scalars(select(Notice.account_id))) == [on.id]
    # A test notice is only a notice, not something that happened.
    services.queue_test(db_session, mail_settings, on.id)
    db_session.flush()
    assert _events(db_session, on.id) == [NoticeEvent.DECLINE]
    assert _notices(db_session) == 2


def test_turning_notices_off_keeps_the_events(db_session: Session, mail_settings: Settings) -> None:
    person = rows.account(db_session)
    services.save(
        db_session,
        mail_settings,
        person.id,
        services.Choice("me@mail.example", Frequency.DIGEST, None),
    )
    services.queue(db_session, mail_settings, [person.id], NoticeEvent.WAITING_FOR_YOU)
    assert services.turn_off(db_session, mail_settings, person.id)
    db_session.flush()
    assert _notices(db_session) == 0
    assert _events(db_session, person.id) == [NoticeEvent.WAITING_FOR_YOU]


def test_an_event_about_a_subject_is_recorded_once_for_each_person(
    db_session: Session, settings: Settings
) -> None:
    reader, later_reader = rows.account(db_session), rows.account(db_session)
    subject = "0b6d8c3e-0000-4000-8000-000000000001"
    event = NoticeEvent.REFERRAL_OVERDUE
    assert services.queue_once(db_session, settings, [reader.id], event, subject) == 0
    db_session.flush()
    services.queue_once(db_session, settings, [reader.id, later_reader.id], event, subject)
    services.queue_once(db_session, settings, [reader.id], event, "another subject")
    db_session.flush()
    assert _events(db_session, reader.id) == [event, event]
    assert _events(db_session, later_reader.id) == [event]


def test_a_home_shows_the_newest_few_and_the_list_comes_in_pages(
    db_session: Session, settings: Settings
) -> None:
    person, other = rows.account(db_session), rows.account(db_session)
    kinds = [kind for kind in NoticeEvent if kind is not NoticeEvent.TEST]
    for minutes in range(25):
        services.queue(
            db_session,
            settings,
            [person.id],
            kinds[minutes % len(kinds)],
            now=MORNING + timedelta(minutes=minutes),
        )
    services.queue(db_session, settings, [other.id], NoticeEvent.DECLINE, now=MORNING)
    db_session.flush()

    recent = services.recent_events(db_session, person.id)
    assert len(recent) == services.HOME_SHOWN
    assert [item.at for item in recent] == [
        MORNING + timedelta(minutes=m) for m in range(24, 24 - services.HOME_SHOWN, -1)
    ]
    assert recent[0].words == services.EVENT_WORDS[kinds[24 % len(kinds)]]

    first = services.events_page(db_session, person.id, 1)
    assert (first.total, first.pages, len(first.items)) == (25, 2, services.EVENTS_PER_PAGE)
    assert first.items[0].at == MORNING + timedelta(minutes=24)
    last = services.events_page(db_session, person.id, 7)  # past the end: the last page
    assert (last.number, len(last.items)) == (2, 5)
    assert last.items[-1].at == MORNING
    assert services.events_page(db_session, other.id, 1).total == 1


def test_pruning_removes_only_events_older_than_kept_in_batches(
    db_session: Session, settings: Settings
) -> None:
    person = rows.account(db_session)
    now = MORNING
    old = now - services.EVENTS_KEPT - timedelta(minutes=1)
    for _ in range(5):
        services.queue(db_session, settings, [person.id], NoticeEvent.DECLINE, now=old)
    services.queue(
        db_session,
        settings,
        [person.id],
        NoticeEvent.WAITING_FOR_YOU,
        now=now - services.EVENTS_KEPT + timedelta(minutes=1),
    )
    db_session.flush()
    before = now - services.EVENTS_KEPT
    removed = [services.prune_events(db_session, before=before, limit=2) for _ in range(4)]
    assert removed == [2, 2, 1, 0]
    assert _events(db_session, person.id) == [NoticeEvent.WAITING_FOR_YOU]


def test_an_account_removed_takes_its_events_with_it(
    db_session: Session, settings: Settings
) -> None:
    person = rows.account(db_session)
    services.queue(db_session, settings, [person.id], NoticeEvent.SECURITY_EVENT)
    db_session.flush()
    db_session.delete(person)
    db_session.flush()
    assert db_session.scalar(select(func.count()).select_from(AccountEvent)) == 0
