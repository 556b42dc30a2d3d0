"""Notices by e-mail over HTTP, on SQLite and PostgreSQL, with a real SMTP server (aiosmtpd):
choosing them, erasing the address, the events that queue one (only after approval for a
recipient), and what reaches a mailbox: the neutral words and the sign-in link, never a name,
a case reference or content."""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select, text, update

from portal import protocol
from portal.accounts.models import Account, Role
from portal.db import utcnow
from portal.factors.models import SecondFactor
from portal.notifications import outbox
from portal.notifications.models import Frequency, Notice, NoticeEvent, NoticePreference
from portal.referrals import services as referral_services
from portal.referrals.models import Referral
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_account_events import events_of
from tests.http.test_changing_keys import _new_password_body
from tests.http.test_keys_that_change import rekey
from tests.http.test_referrals import send, set_up
from tests.support import leaks
from tests.support.smtp import SmtpServer


@pytest.fixture
def settings_env(settings_env: dict[str, str], smtp_server: SmtpServer) -> dict[str, str]:
    return {**settings_env, **smtp_server.env()}


HOUR = timedelta(hours=1)


def turn_on(person: Person, email: str, frequency: str = "each", **quiet: str) -> None:
    answer = person.post_form("/account/notices", {"email": email, "frequency": frequency, **quiet})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/account/notices?done=saved"


def queued(portal: Portal, person: Person) -> list[NoticeEvent]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(Notice.event)
                .where(Notice.account_id == person.account_id)
                .order_by(Notice.created_at)
            )
        )


def send_now(portal: Portal, settings: Settings) -> outbox.OutboxReport:
    return outbox.send_due(portal.sessions, settings, utcnow() + timedelta(seconds=1))


def test_notices_are_off_until_chosen_and_the_page_says_what_a_notice_says(
    portal: Portal,
) -> None:
    participant = portal.person(Role.PARTICIPANT)
    assert 'href="/account/notices"' in participant.get("/account").text
    page = participant.get("/account/notices")
    assert page.status_code == 200
    assert "Only that there is something new, and a link to sign in" in page.text
    assert "Turn notices on" in page.text
    assert 'value="digest" checked' in page.text  # at most one a day, unless they ask
    with portal.db() as db:
        assert db.scalar(select(func.count()).select_from(NoticePreference)) == 0


def test_turning_on_keeps_the_choice_and_turning_off_erases_the_address(
    portal: Portal,
) -> None:
    person = portal.person(Role.FACILITATOR)
    turn_on(person, "fac@mail.example", "digest", quiet_from="21:30", quiet_to="07:00")
    with portal.db() as db:
        found = db.get(NoticePreference, person.account_id)
        assert found is not None
        assert (found.email, found.frequency) == ("fac@mail.example", Frequency.DIGEST)
        assert (found.quiet_from_minute, found.quiet_to_minute) == (21 * 60 + 30, 7 * 60)
    page = person.get("/account/notices").text
    assert "Your notices are on" in page
    assert 'value="21:30"' in page
    assert person.post_form("/account/notices/test").status_code == 303
    assert queued(portal, person) == [NoticeEvent.TEST]

    off = person.post_form("/account/notices/off")
    assert off.headers["location"] == "/account/notices?done=off"
    assert "Your e-mail address has been deleted" in person.get("/account/notices?done=off").text
    with portal.db() as db:
        assert db.get(NoticePreference, person.account_id) is None
        assert db.scalar(select(func.count()).select_from(Notice)) == 0
        # Erased, not hidden: the address is in no row of the table.
        assert (
            db.scalar(text("SELECT count(*) FROM notice_preferences WHERE email LIKE '%fac@%'"))
            == 0
        )
    # A test needs notices on.
    assert person.post_form("/account/notices/test").status_code == 409


@pytest.mark.sqlite_only  # PostgreSQL keeps a deleted row's bytes until VACUUM reuses its space
def test_an_erased_address_is_overwritten_in_the_database_file(portal: Portal) -> None:
    person = portal.person(Role.FACILITATOR)
    turn_on(person, "erase-me@mail.example", "each")
    assert person.post_form("/account/notices/test").status_code == 303
    assert person.post_form("/account/notices/off").status_code == 303
    path = make_url(portal.settings.database_url).database
    assert path is not None
    # Everything written so far into the database file itself, the write-ahead log emptied.
    with closing(sqlite3.connect(path)) as checkpoint:
        busy, _, _ = checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    assert Path(f"{path}-wal").stat().st_size == 0
    assert b"erase-me@mail.example" not in Path(path).read_bytes()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-address", "frequency": "each"}, "email"),
        ({"email": "a@mail.example\r\nBcc: b@mail.example", "frequency": "each"}, "email"),
        ({"email": "a@mail.example, b@mail.example", "frequency": "each"}, "email"),
        ({"email": "a@mail.example", "frequency": "hourly"}, "frequency"),
        ({"email": "a@mail.example", "frequency": "each", "quiet_from": "22:00"}, "quiet_to"),
        (
            {
                "email": "a@mail.example",
                "frequency": "each",
                "quiet_from": "25:00",
                "quiet_to": "1",
            },
            "quiet_from",
        ),
        (
            {
                "email": "a@mail.example",
                "frequency": "each",
                "quiet_from": "08:00",
                "quiet_to": "08:00",
            },
            "quiet_to",
        ),
    ],
)
def test_bad_choices_get_a_clear_400_that_repeats_nothing_typed(
    portal: Portal, fields: dict[str, str], field: str
) -> None:
    person = portal.person(Role.PARTICIPANT)
    answer = person.request(
        "POST",
        "/account/notices",
        data={"csrf_token": person.csrf(), **fields},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 400
    assert answer.headers["X-Field"] == field
    assert "mail.example" not in answer.text
    with portal.db() as db:
        assert db.get(NoticePreference, person.account_id) is None


def test_a_recipient_hears_only_after_approval_and_no_mail_says_more_than_the_service_words(
    portal: Portal, settings: Settings, smtp_server: SmtpServer
) -> None:
    canary = {name: f"canary-{name}-{secrets.token_hex(6)}" for name in ("harmed", "responsible")}
    world = CaseWorld.build(portal, names=(canary["harmed"], canary["responsible"]))
    letter = f"Words of the letter {secrets.token_hex(6)}"
    feedback = f"Words of the feedback {secrets.token_hex(6)}"
    turn_on(world.facilitator, "facilitator@mail.example")
    turn_on(world.harmed, "harmed@mail.example")
    turn_on(world.responsible, "responsible@mail.example")

    message_id = world.write_letter(world.responsible, letter)
    assert queued(portal, world.facilitator) == [NoticeEvent.WAITING_FOR_REVIEW]
    assert world.return_with_feedback(message_id, feedback).status_code == 200
    assert queued(portal, world.responsible) == [NoticeEvent.RETURNED_WITH_SUGGESTIONS]
    # A move refused (returned twice) rolls back and queues nothing.
    again = world.facilitator.post_json(f"/api/messages/{message_id}/return", {})
    assert again.status_code >= 400
    assert queued(portal, world.responsible) == [NoticeEvent.RETURNED_WITH_SUGGESTIONS]
    world.revise_letter(world.responsible, message_id, letter + " again")
    world.review(message_id)
    # Reviewed, not yet approved: nothing for the recipient, not even a queued row.
    assert queued(portal, world.harmed) == []
    assert world.approve(message_id).status_code == 200
    assert queued(portal, world.harmed) == [NoticeEvent.WAITING_FOR_YOU]

    assert send_now(portal, settings).sent == 3
    assert sorted(a for mail in smtp_server.received for a in mail.rcpt_tos) == [
        "facilitator@mail.example",
        "harmed@mail.example",
        "responsible@mail.example",
    ]
    smtp = settings.smtp
    assert smtp is not None
    needles = [
        *canary.values(),
        letter,
        feedback,
        world.reference,
        world.case_id,
        message_id,
        "Burglary",
        world.harmed.name,
        world.responsible.name,
        world.facilitator.name,
        "restorative",
        "letter",
    ]
    for mail in smtp_server.received:
        message = mail.message
        assert message["Subject"] == smtp.subject
        headers = "\n".join(f"{name}: {value}" for name, value in message.items())
        words = (headers + "\n" + message.get_content()).lower()
        raw = mail.data.decode().lower()
        for needle in needles:
            assert needle.lower() not in words, needle
            assert needle.lower() not in raw, needle
        assert f"{smtp.public_url}/sign-in" in message.get_content()


def test_staff_hear_of_a_decline_and_a_withdrawal_but_not_of_their_own_moves(
    portal: Portal, settings: Settings
) -> None:
    world = CaseWorld.build(portal)
    turn_on(world.facilitator, "facilitator@mail.example")
    turn_on(world.responsible, "responsible@mail.example")
    message_id = world.write_letter(world.responsible, "Words.")
    assert world.approve(message_id).status_code == 200
    assert world.harmed.post_json(f"/api/inbox/{message_id}/decline").status_code == 200
    assert queued(portal, world.facilitator) == [
        NoticeEvent.WAITING_FOR_REVIEW,
        NoticeEvent.DECLINE,
    ]
    # The writer hears of a decline from a facilitator first (issue 11), never by a notice.
    assert queued(portal, world.responsible) == []
    second = world.write_letter(world.responsible, "More words.")
    withdrawn = world.responsible.post_json(f"/api/letters/{second}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert queued(portal, world.facilitator)[-1] is NoticeEvent.WITHDRAWAL
    assert queued(portal, world.responsible) == []


def test_a_participant_is_told_of_a_supporter_invited_for_them(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    turn_on(world.harmed, "harmed@mail.example")
    world.add_supporter_place(world.harmed)
    assert queued(portal, world.harmed) == [NoticeEvent.SUPPORTER_INVITED]


def test_a_password_change_is_a_security_notice_for_the_account(portal: Portal) -> None:
    person = portal.person(Role.FACILITATOR)
    turn_on(person, "me@mail.example", "digest")
    kdf = person.get("/api/account/kdf").json()
    current = protocol.derive_account_keys(
        person.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    body = {
        "current_auth_key": protocol.b64encode(current.auth_key),
        **_new_password_body(person, "a brand new passphrase", kdf["new_ops"], kdf["new_mem"]),
    }
    assert person.post_json("/api/account/password", body).status_code == 200
    assert queued(portal, person) == [NoticeEvent.SECURITY_EVENT]


def test_new_keys_from_a_rekey_code_are_a_security_notice_for_the_account(portal: Portal) -> None:
    """A re-key code replaces the account's password and keys: if someone other than the
    person used it, the notice is how the person would find out (as for a password change)."""
    world = CaseWorld.build(portal)
    turn_on(world.harmed, "harmed@mail.example", "digest")
    rekey(world, world.harmed)
    assert queued(portal, world.harmed) == [NoticeEvent.SECURITY_EVENT]


def test_adding_or_removing_a_second_factor_is_a_security_notice_for_the_account(
    portal: Portal,
) -> None:
    """Someone with the password who adds a factor of their own (or removes one) is what the
    person must hear about, as after a password change."""
    participant = portal.person(Role.PARTICIPANT)
    turn_on(participant, "me@mail.example", "digest")
    with portal.db() as db:  # joined yesterday: this session is not the one they joined in
        db.execute(
            update(Account)
            .where(Account.id == participant.account_id)
            .values(created_at=utcnow() - timedelta(days=1))
        )
        db.commit()
    participant.add_authenticator_app()
    assert queued(portal, participant) == [NoticeEvent.SECURITY_EVENT]
    assert participant.post_form("/account/second-factor/backup-codes").status_code == 200
    with portal.db() as db:
        factor_id = db.scalars(
            select(SecondFactor.id).where(SecondFactor.account_id == participant.account_id)
        ).one()
    removed = participant.post_form(f"/account/second-factor/{factor_id}/remove")
    assert removed.status_code == 303
    assert queued(portal, participant) == [NoticeEvent.SECURITY_EVENT] * 3


def test_setting_up_a_factor_while_joining_is_no_notice(portal: Portal) -> None:
    """Staff set up their first factor and backup codes in the session they joined in: that is
    the person setting up, not news to them."""
    facilitator = portal.person(Role.FACILITATOR)  # joined, and added an authenticator app
    assert facilitator.post_form("/account/second-factor/backup-codes").status_code == 200
    assert events_of(portal, facilitator) == []


def test_closing_a_staff_account_erases_its_address(portal: Portal) -> None:
    manager = portal.service_manager()
    facilitator = portal.person(Role.FACILITATOR, manager)
    turn_on(facilitator, "closing@mail.example")
    closed = manager.post_form(f"/staff/people/{facilitator.account_id}/disable")
    assert closed.status_code == 303, closed.text
    with portal.db() as db:
        assert db.get(NoticePreference, facilitator.account_id) is None


def test_readers_hear_once_of_a_referral_that_passed_its_first_contact_target(
    portal: Portal, settings: Settings
) -> None:
    service = set_up(portal)
    turn_on(service.manager, "reader@mail.example")
    visitor = portal.visitor()
    received = {
        # Wednesday 2 December 2026, seen from: 7 working days after, 1 after, long after.
        "lately_overdue": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        "not_yet": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        "long_overdue": datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
    }
    references = {name: send(visitor, service).json()["reference"] for name in received}
    with portal.db() as db:
        for name, at in received.items():
            row = db.scalars(select(Referral).where(Referral.reference == references[name])).one()
            row.received_at = at
        db.commit()
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with portal.db() as db:
        assert referral_services.queue_overdue_notices(db, settings, now) == 1
        db.commit()
    with portal.db() as db:
        # Once: the runner looks again an hour later and queues nothing more.
        assert referral_services.queue_overdue_notices(db, settings, now + HOUR) == 0
        db.commit()
    assert queued(portal, service.manager) == [NoticeEvent.REFERRAL_OVERDUE]


def test_the_address_reaches_no_log_error_page_or_file_in_the_data_folder(
    portal: Portal,
    settings: Settings,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    person = portal.person(Role.PARTICIPANT)
    address = f"canary-{secrets.token_hex(6)}@mail.example"
    with caplog.at_level("DEBUG"):
        # A whole error page (no htmx), then the same address accepted, a test notice that
        # fails while the mail server is down, and notices turned off.
        refused = person.post_form("/account/notices", {"email": f"<{address}>"})
        assert refused.status_code == 400
        assert address not in refused.text
        turn_on(person, address)
        assert person.post_form("/account/notices/test").status_code == 303
        smtp_server.stop()
        assert send_now(portal, settings).failed == 1
        assert person.post_form("/account/notices/off").status_code == 303
    assert address not in caplog.text
    needles = leaks.encodings(address.encode())
    for path, data in leaks.files_bytes([settings.data_dir]).items():
        assert not any(needle in data for needle in needles), path


def test_a_participant_withdrawing_is_one_notice_for_their_facilitator(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.write_letter(world.responsible, "Words.")
    world.write_letter(world.responsible, "More words.")
    turn_on(world.facilitator, "facilitator@mail.example")
    withdrawn = world.responsible.post_json("/api/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert queued(portal, world.facilitator) == [NoticeEvent.WITHDRAWAL]
