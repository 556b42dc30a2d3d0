"""Known browsers (portal/accounts/browsers.py) over HTTP, on SQLite and PostgreSQL, with a real
SMTP server (aiosmtpd): a sign-in from a browser the account never used is one notice and one
neutral mail; joining, signing in again, signing out and a session ending tell nothing; quick
exit forgets the browser; the cookie is kept only as a keyed hash."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx2 as httpx
import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from portal import protocol
from portal.accounts import browsers
from portal.accounts.models import KnownBrowser, Role, SignInSession
from portal.audit.models import AuditEvent
from portal.audit.tags import AuditTag
from portal.db import utcnow
from portal.notifications.models import NoticeEvent
from portal.settings import Settings
from tests.factories import Person, Portal
from tests.http.test_notices import queued, send_now, turn_on
from tests.support import leaks
from tests.support.smtp import SmtpServer

COOKIE = "portal_browser"
TOLD = [NoticeEvent.NEW_BROWSER_SIGN_IN]
# A user agent whose coarse label ("Chrome on Linux") must reach no mail.
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
    "Safari/537.36"
)


@pytest.fixture
def settings_env(settings_env: dict[str, str], smtp_server: SmtpServer) -> dict[str, str]:
    return {**settings_env, **smtp_server.env()}


def another_browser(person: Person) -> Person:
    """The same person in a browser of its own (an empty cookie jar)."""
    return dataclasses.replace(person, jar=httpx.Cookies())


def rows_of(portal: Portal, person: Person) -> list[KnownBrowser]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(KnownBrowser)
                .where(KnownBrowser.account_id == person.account_id)
                .order_by(KnownBrowser.first_seen_at)
            )
        )


def new_browser_events(portal: Portal, person: Person) -> list[AuditEvent]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.tag == AuditTag.ACCOUNT_SIGNED_IN_NEW_BROWSER,
                    AuditEvent.actor_id == person.account_id,
                )
            )
        )


def test_joining_knows_the_browser_and_tells_nothing(portal: Portal, settings: Settings) -> None:
    person = portal.person(Role.PARTICIPANT)
    token = person.jar[COOKIE]
    [row] = rows_of(portal, person)
    assert row.token_hash == browsers.token_hash(settings, person.account_id, token)
    assert new_browser_events(portal, person) == []
    assert queued(portal, person) == []


def test_signing_in_again_from_the_same_browser_tells_nothing(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    turn_on(person, "me@mail.example")
    token = person.jar[COOKIE]
    [before] = rows_of(portal, person)
    assert person.sign_out().status_code == 303
    # Signing out keeps the cookie (only the session's goes).
    assert person.jar[COOKIE] == token
    person.sign_in()
    assert person.jar[COOKIE] == token
    [after] = rows_of(portal, person)
    assert after.id == before.id
    assert after.last_seen_at >= before.last_seen_at
    assert queued(portal, person) == []
    assert new_browser_events(portal, person) == []


def test_a_sign_in_from_another_browser_is_one_notice_and_one_neutral_mail(
    portal: Portal, settings: Settings, smtp_server: SmtpServer
) -> None:
    person = portal.person(Role.PARTICIPANT)
    turn_on(person, "harmed@mail.example")
    elsewhere = another_browser(person)
    elsewhere.sign_in(headers={"user-agent": CHROME_ON_LINUX})
    assert queued(portal, person) == TOLD
    _, second = rows_of(portal, person)
    assert second.device == "Chrome on Linux"
    [event] = new_browser_events(portal, person)
    # Ids only: the new browser's row, never its label.
    assert (event.actor_id, event.subject_id) == (person.account_id, second.id)
    # The same other browser again: known now.
    assert elsewhere.sign_out().status_code == 303
    elsewhere.sign_in()
    assert queued(portal, person) == TOLD
    # ...and the first browser is still known too.
    assert person.sign_out().status_code == 303
    person.sign_in()
    assert queued(portal, person) == TOLD

    assert send_now(portal, settings).sent == 1
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ("harmed@mail.example",)
    smtp = settings.smtp
    assert smtp is not None
    message = mail.message
    assert message["Subject"] == smtp.subject
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    words = (headers + "\n" + message.get_content()).lower()
    raw = mail.data.decode().lower()
    for needle in (
        "chrome",
        "linux",
        "browser",
        "device",
        "sign-in from",
        "restorative",
        "justice",
        person.name.lower(),
        person.account_id,
        second.id,
    ):
        assert needle not in words, needle
        assert needle not in raw, needle
    assert f"{smtp.public_url}/sign-in" in message.get_content()


def test_staff_are_told_once_the_password_is_proved_before_the_second_factor(
    portal: Portal,
) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    turn_on(facilitator, "fac@mail.example")
    elsewhere = another_browser(facilitator)
    # The password alone, from a new browser: told now, whether or not the factor follows.
    answer = elsewhere.try_sign_in()
    assert answer.status_code == 200, answer.text
    assert answer.json()["second_factor"] == "verify"
    assert queued(portal, facilitator) == TOLD
    assert elsewhere.pass_second_factor().status_code == 200
    assert queued(portal, facilitator) == TOLD
    assert len(rows_of(portal, facilitator)) == 2


def test_the_cookie_is_kept_only_as_a_keyed_hash(portal: Portal, settings: Settings) -> None:
    person = portal.person(Role.PARTICIPANT)
    elsewhere = another_browser(person)
    elsewhere.sign_in()
    tokens = [person.jar[COOKIE], elsewhere.jar[COOKIE]]
    assert tokens[0] != tokens[1]
    stored = leaks.database_bytes(settings.database_url)
    for token in tokens:
        for needle in leaks.encodings(token.encode()) + leaks.encodings(protocol.b64decode(token)):
            assert needle not in stored
    hashes = {row.token_hash for row in rows_of(portal, person)}
    assert hashes == {browsers.token_hash(settings, person.account_id, t) for t in tokens}


def _browser_cookie_header(response: httpx.Response, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]
    return header


def test_the_cookie_is_httponly_strict_and_kept_400_days(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    answer = another_browser(person).try_sign_in()
    header = _browser_cookie_header(answer, COOKIE)
    assert "HttpOnly" in header
    assert "SameSite=strict" in header
    assert "Path=/" in header
    assert f"Max-Age={400 * 24 * 3600}" in header
    assert "Secure" not in header  # plain http here; under https below


def test_under_https_the_cookie_is_secure_and_host_only(
    portal: Portal, settings_env: dict[str, str]
) -> None:
    from portal.app import create_app

    person = portal.person(Role.PARTICIPANT)
    settings = Settings.from_env({**settings_env, "PORTAL_BASE_URL": "https://portal.example"})
    with TestClient(create_app(settings), base_url="https://portal.example") as https:
        https.get("/healthz")
        csrf = {"X-CSRF-Token": https.cookies["__Host-portal_csrf"]}
        auth_key = person.auth_key_for(person.name, person.password)
        answer = https.post(
            "/api/sign-in",
            json={"sign_in_name": person.name, "auth_key": protocol.b64encode(auth_key)},
            headers=csrf,
        )
        assert answer.status_code == 200, answer.text
    header = _browser_cookie_header(answer, "__Host-" + COOKIE)
    assert "Secure" in header
    assert "Domain" not in header
    assert "HttpOnly" in header
    assert "SameSite=strict" in header


def test_a_session_that_ended_keeps_the_cookie(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    turn_on(person, "me@mail.example")
    token = person.jar[COOKIE]
    with portal.db() as db:
        db.execute(
            update(SignInSession)
            .where(SignInSession.account_id == person.account_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=30))
        )
        db.commit()
    ended = person.get("/home")
    assert ended.headers["location"] == "/sign-in?reason=expired"
    assert person.jar[COOKIE] == token
    person.sign_in()
    assert queued(portal, person) == []


def test_quick_exit_forgets_the_browser_and_the_next_sign_in_is_told(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    turn_on(person, "me@mail.example")
    assert person.post_form("/session/quick-exit").status_code == 204
    assert COOKIE not in person.jar
    assert rows_of(portal, person) == []
    person.sign_in()
    assert queued(portal, person) == TOLD
    assert len(rows_of(portal, person)) == 1


def test_a_quick_exit_while_signed_out_still_clears_the_cookie(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    assert person.sign_out().status_code == 303
    assert person.post_form("/session/quick-exit").status_code == 204
    assert COOKIE not in person.jar


def test_one_shared_browser_is_known_to_each_account_on_its_own(
    portal: Portal, settings: Settings
) -> None:
    first = portal.person(Role.PARTICIPANT)
    second = portal.person(Role.PARTICIPANT)
    turn_on(first, "first@mail.example")
    turn_on(second, "second@mail.example")
    token = first.jar[COOKIE]
    # The second person signs in on the first person's computer.
    assert first.sign_out().status_code == 303
    shared = dataclasses.replace(second, jar=httpx.Cookies(first.jar))
    shared.sign_in()
    assert queued(portal, second) == TOLD
    assert shared.jar[COOKIE] == token  # one cookie for the browser
    [mine] = rows_of(portal, first)
    _, theirs = rows_of(portal, second)
    # Two rows for one token, which the database alone cannot tie together.
    assert mine.token_hash != theirs.token_hash
    assert theirs.token_hash == browsers.token_hash(settings, second.account_id, token)
    assert shared.sign_out().status_code == 303
    back = dataclasses.replace(first, jar=httpx.Cookies(shared.jar))
    back.sign_in()
    assert queued(portal, first) == []


def test_the_sessions_page_lists_the_browsers_and_forgets_ones_own_only(
    portal: Portal,
) -> None:
    person = portal.person(Role.PARTICIPANT)
    other = portal.person(Role.PARTICIPANT)
    turn_on(person, "me@mail.example")
    another_browser(person).sign_in(headers={"user-agent": CHROME_ON_LINUX})
    page = person.get("/account/sessions").text
    assert "Browsers used to sign in" in page
    # Once, in the page's main part: the title is plain words.
    assert page.count("Browsers used to sign in") == 1
    assert "<title>Where you are signed in" in page
    assert "<h2" not in page.split("</title>", 1)[0]
    assert "(this browser)" in page
    assert "Chrome on Linux" in page
    here, there = rows_of(portal, person)

    # Someone else's browser is not found, as one that does not exist.
    refused = other.post_form(f"/account/browsers/{here.id}/forget")
    assert refused.status_code == 404
    assert other.post_form("/account/browsers/not-an-id/forget").status_code == 404
    assert len(rows_of(portal, person)) == 2

    forgot = person.post_form(f"/account/browsers/{there.id}/forget")
    assert (forgot.status_code, forgot.headers["location"]) == (
        303,
        "/account/sessions?ended=browser",
    )
    assert [row.id for row in rows_of(portal, person)] == [here.id]
    assert "has been forgotten" in person.get("/account/sessions?ended=browser").text
    # Twice (a double click): said clearly, not a 500.
    assert person.post_form(f"/account/browsers/{there.id}/forget").status_code == 404
    with portal.db() as db:
        tags = list(
            db.scalars(
                select(AuditEvent.subject_id).where(
                    AuditEvent.tag == AuditTag.KNOWN_BROWSER_FORGOTTEN
                )
            )
        )
    assert tags == [there.id]

    # Forgetting this browser: its next sign-in is told as a new one.
    assert person.post_form(f"/account/browsers/{here.id}/forget").status_code == 303
    assert person.sign_out().status_code == 303
    person.sign_in()
    assert queued(portal, person) == TOLD * 2
