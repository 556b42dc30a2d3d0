"""The outbox runner against a real SMTP server (aiosmtpd), on SQLite and PostgreSQL, with
the clock the test chooses: quiet hours, digests, an outage and the recovery after it, and
two runners at once on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Account, Role
from portal.db import make_session_factory
from portal.errors import Conflict
from portal.notifications import mail as mails
from portal.notifications import outbox, services
from portal.notifications.models import Frequency, Notice, NoticeEvent, NoticePreference
from portal.notifications.rules import QuietHours
from portal.settings import Settings, SmtpSettings
from tests import rows
from tests.support.env import portal_env
from tests.support.locks import second_waits_for_first
from tests.support.smtp import SmtpServer

# 2026-12-02 is in winter: London time is UTC.
MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NIGHT = QuietHours(22 * 60, 7 * 60)


@pytest.fixture
def settings_env(settings_env: dict[str, str], smtp_server: SmtpServer) -> dict[str, str]:
    return {**settings_env, **smtp_server.env()}


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


def _opted_in(
    sessions: sessionmaker[Session],
    settings: Settings,
    email: str,
    frequency: Frequency = Frequency.EACH,
    quiet: QuietHours | None = None,
    role: Role = Role.PARTICIPANT,
) -> str:
    with sessions() as db:
        account = rows.account(db, role)
        services.save(db, settings, account.id, services.Choice(email, frequency, quiet))
        db.commit()
        return account.id


def _queue(
    sessions: sessionmaker[Session],
    settings: Settings,
    account_id: str,
    at: datetime,
    event: NoticeEvent = NoticeEvent.WAITING_FOR_YOU,
) -> None:
    with sessions() as db:
        assert services.queue(db, settings, [account_id], event, now=at) == 1
        db.commit()


def _to(smtp_server: SmtpServer) -> list[str]:
    return [address for mail in smtp_server.received for address in mail.rcpt_tos]


def test_a_due_notice_is_sent_once_with_neutral_words_only(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer
) -> None:
    person = _opted_in(sessions, settings, "harmed@mail.example")
    _queue(sessions, settings, person, MORNING)
    _queue(sessions, settings, person, MORNING, NoticeEvent.RETURNED_WITH_SUGGESTIONS)

    report = outbox.send_due(sessions, settings, MORNING)
    assert (report.sent, report.failed) == (1, 0)
    # Nothing is due any more: a second run sends nothing.
    assert outbox.send_due(sessions, settings, MORNING + timedelta(minutes=5)).sent == 0
    assert _to(smtp_server) == ["harmed@mail.example"]
    message = smtp_server.received[0].message
    smtp = settings.smtp
    assert smtp is not None
    assert message["Subject"] == smtp.subject
    assert message["From"] == f"{smtp.sender_name} <{smtp.sender}>"
    body = message.get_content()
    assert mails.sign_in_url(smtp) in body
    # Two events, one mail; which events stays in the portal.
    words = body + "".join(f"{name}: {value}" for name, value in message.items())
    for event in set(NoticeEvent) - {NoticeEvent.TEST}:
        assert event.value not in words
    with sessions() as db:
        assert db.scalar(select(func.count()).where(Notice.sent_at.is_(None))) == 0


def test_quiet_hours_hold_a_notice_until_they_end(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer
) -> None:
    person = _opted_in(sessions, settings, "quiet@mail.example", quiet=NIGHT)
    late = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    _queue(sessions, settings, person, late)

    assert outbox.send_due(sessions, settings, late).deferred == 1
    assert outbox.send_due(sessions, settings, late + timedelta(hours=7)).sent == 0
    assert smtp_server.received == []
    assert outbox.send_due(sessions, settings, datetime(2026, 12, 3, 7, 0, tzinfo=UTC)).sent == 1
    assert _to(smtp_server) == ["quiet@mail.example"]


def test_a_digest_person_hears_once_a_day_and_each_person_as_often_as_asked(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer
) -> None:
    digest = _opted_in(sessions, settings, "digest@mail.example", Frequency.DIGEST)
    each = _opted_in(sessions, settings, "each@mail.example", Frequency.EACH)
    for hour in (9, 12, 15):
        now = MORNING.replace(hour=hour)
        _queue(sessions, settings, digest, now)
        _queue(sessions, settings, each, now)
        outbox.send_due(sessions, settings, now)
    assert _to(smtp_server).count("digest@mail.example") == 1
    assert _to(smtp_server).count("each@mail.example") == 3
    # The rest of the day's events go the next morning, as one.
    outbox.send_due(sessions, settings, datetime(2026, 12, 3, 0, 0, tzinfo=UTC))
    assert _to(smtp_server).count("digest@mail.example") == 2


def test_a_mail_server_outage_loses_nothing_and_recovery_delivers_exactly_once(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer
) -> None:
    first = _opted_in(sessions, settings, "first@mail.example")
    second = _opted_in(sessions, settings, "second@mail.example")
    _queue(sessions, settings, first, MORNING)
    _queue(sessions, settings, second, MORNING)
    smtp_server.stop()

    down = outbox.send_due(sessions, settings, MORNING)
    assert (down.sent, down.failed) == (0, 2)
    with sessions() as db:
        waiting = db.scalars(select(Notice)).all()
        assert [n.attempts for n in waiting] == [1, 1]
        assert all(n.sent_at is None for n in waiting)
        assert {n.next_attempt_at for n in waiting} == {MORNING + timedelta(minutes=1)}
    # Still down a minute later: the next try waits twice as long.
    assert outbox.send_due(sessions, settings, MORNING + timedelta(minutes=1)).failed == 2
    # Before the backoff is over nothing is tried, even with the server back.
    smtp_server.start()
    assert outbox.send_due(sessions, settings, MORNING + timedelta(minutes=2)).sent == 0

    back = MORNING + timedelta(minutes=3)
    assert outbox.send_due(sessions, settings, back).sent == 2
    assert outbox.send_due(sessions, settings, back + timedelta(hours=1)).sent == 0
    assert sorted(_to(smtp_server)) == ["first@mail.example", "second@mail.example"]


def test_nothing_is_logged_with_the_address_when_the_server_is_down(
    sessions: sessionmaker[Session],
    settings: Settings,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    person = _opted_in(sessions, settings, "private-person@mail.example")
    _queue(sessions, settings, person, MORNING)
    smtp_server.stop()
    with caplog.at_level("DEBUG"):
        assert outbox.send_due(sessions, settings, MORNING).failed == 1
    assert caplog.records, "the failure is logged"
    assert "private-person" not in caplog.text
    assert person in caplog.text


def test_a_test_notice_goes_at_once_even_in_quiet_hours_and_says_it_is_a_test(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer
) -> None:
    person = _opted_in(sessions, settings, "tester@mail.example", Frequency.DIGEST, NIGHT)
    late = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    _queue(sessions, settings, person, late, NoticeEvent.TEST)
    assert outbox.send_due(sessions, settings, late).sent == 1
    assert "test message you asked for" in smtp_server.received[0].message.get_content()
    with sessions() as db:
        found = db.get(NoticePreference, person)
        assert found is not None
        # A test does not use up the day's digest.
        assert found.last_sent_at is None


def test_turning_notices_off_erases_the_address_and_what_was_queued(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer
) -> None:
    person = _opted_in(sessions, settings, "gone@mail.example")
    _queue(sessions, settings, person, MORNING)
    with sessions() as db:
        account = rows.found(db, Account, person)
        assert services.turn_off(db, settings, account.id)
        db.commit()
    with sessions() as db:
        # The row is gone, not blanked: no copy of the address is left in either table.
        assert db.get(NoticePreference, person) is None
        assert db.scalar(select(func.count()).select_from(Notice)) == 0
        assert (
            db.scalar(text("SELECT count(*) FROM notice_preferences WHERE email LIKE '%gone@%'"))
            == 0
        )
    assert outbox.send_due(sessions, settings, MORNING).sent == 0
    assert smtp_server.received == []


def test_nobody_is_queued_without_notices_on_or_without_a_mail_server(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as db:
        quiet_person = rows.account(db)
        assert services.queue(db, settings, [quiet_person.id, None], NoticeEvent.DECLINE) == 0
        db.commit()
    person = _opted_in(sessions, settings, "x@mail.example")
    unconfigured = Settings.from_env(
        portal_env(
            data_dir=settings.data_dir,
            database_url=settings.database_url,
            base_url="http://testserver",
        )
    )
    assert unconfigured.smtp is None
    with sessions() as db:
        assert services.queue(db, unconfigured, [person], NoticeEvent.DECLINE) == 0
    assert outbox.send_due(sessions, unconfigured, MORNING).sent == 0


def _with_smtp(pg_settings: Settings, smtp_server: SmtpServer) -> Settings:
    return Settings.from_env(
        {
            **portal_env(
                data_dir=pg_settings.data_dir,
                database_url=pg_settings.database_url,
                base_url="http://testserver",
            ),
            **smtp_server.env(),
        }
    )


def test_two_runners_at_once_never_send_a_notice_twice(
    pg_engine: Engine, pg_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _with_smtp(pg_settings, smtp_server)
    sessions = make_session_factory(pg_engine)
    people = [_opted_in(sessions, settings, f"person{n}@mail.example") for n in range(4)]
    for person in people:
        _queue(sessions, settings, person, MORNING)

    first_is_sending = threading.Event()
    let_first_finish = threading.Event()

    def slow_send(smtp: SmtpSettings, mail: EmailMessage) -> None:
        # The first runner holds its first person's row while the second runs in full.
        if not first_is_sending.is_set():
            first_is_sending.set()
            assert let_first_finish.wait(timeout=30)
        mails.send(smtp, mail)

    reports: list[outbox.OutboxReport] = []
    first = threading.Thread(
        target=lambda: reports.append(outbox.send_due(sessions, settings, MORNING, send=slow_send))
    )
    first.start()
    assert first_is_sending.wait(timeout=30)
    # The second runner skips the person the first holds (SKIP LOCKED) and sends the rest.
    second = outbox.send_due(sessions, settings, MORNING)
    let_first_finish.set()
    first.join(timeout=30)
    assert not first.is_alive()
    assert second.sent == 3
    assert reports[0].sent == 1
    assert sorted(_to(smtp_server)) == sorted(f"person{n}@mail.example" for n in range(4))


def test_turning_notices_on_twice_at_once_keeps_one_and_tells_the_second(
    pg_engine: Engine, pg_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _with_smtp(pg_settings, smtp_server)
    sessions = make_session_factory(pg_engine)
    with sessions() as db:
        account_id = rows.account(db).id
        db.commit()

    def turn_on(email: str) -> Callable[[Session], None]:
        return lambda db: services.save(
            db, settings, account_id, services.Choice(email, Frequency.EACH, None)
        )

    refused = second_waits_for_first(
        sessions, pg_engine, turn_on("first@mail.example"), turn_on("second@mail.example")
    )
    assert isinstance(refused, Conflict)
    with sessions() as db:
        found = db.get(NoticePreference, account_id)
        assert found is not None
        assert found.email == "first@mail.example"
