"""Known browsers (portal/accounts/browsers.py) on rows, on SQLite and PostgreSQL: joining tells
nothing, the most recent 20 are kept, a cookie that is not a token is replaced; and, on
PostgreSQL, two sign-ins at once from one new browser add it once and tell it once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from portal.accounts import browsers
from portal.accounts.models import Account, KnownBrowser
from portal.db import make_session_factory, utcnow
from portal.notifications.models import Frequency, Notice, NoticeEvent, NoticePreference
from portal.settings import Settings
from tests import rows
from tests.support.env import portal_env
from tests.support.locks import second_waits_for_first

# A mail server is named so that notices are queued; nothing is sent in these tests.
SMTP = {
    "PORTAL_SMTP_HOST": "127.0.0.1",
    "PORTAL_SMTP_PORT": "9",
    "PORTAL_SMTP_TLS": "none",
    "PORTAL_SMTP_SENDER": "notices@service.example",
}
UA = "Mozilla/5.0 (Android 14; Mobile) Firefox/131.0"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, **SMTP}


def _with_notices_on(db: Session) -> Account:
    account = rows.account(db)
    db.add(
        NoticePreference(
            account_id=account.id,
            email="me@mail.example",
            frequency=Frequency.EACH,
            created_at=utcnow(),
        )
    )
    db.flush()
    return account


def _told(db: Session, account: Account) -> list[NoticeEvent]:
    return list(db.scalars(select(Notice.event).where(Notice.account_id == account.id)))


def test_the_first_sign_in_tells_nothing_and_the_next_new_browser_is_told(
    db_session: Session, settings: Settings
) -> None:
    account = _with_notices_on(db_session)
    joined = browsers.recognise(db_session, settings, account, None, UA, first_sign_in=True)
    assert joined.new
    assert _told(db_session, account) == []
    again = browsers.recognise(db_session, settings, account, joined.token, UA)
    assert (again.new, again.row.id, again.token) == (False, joined.row.id, joined.token)
    assert _told(db_session, account) == []
    elsewhere = browsers.recognise(db_session, settings, account, None, UA)
    assert elsewhere.new
    assert elsewhere.token != joined.token
    assert elsewhere.row.device == "Firefox on Android"
    assert _told(db_session, account) == [NoticeEvent.NEW_BROWSER_SIGN_IN]


@pytest.mark.parametrize("cookie", ["", "short", "x" * 43 + "!", "é" * 43, "a" * 500])
def test_a_cookie_that_is_not_a_token_is_replaced(
    db_session: Session, settings: Settings, cookie: str
) -> None:
    account = rows.account(db_session)
    recognised = browsers.recognise(db_session, settings, account, cookie, UA)
    assert recognised.new
    assert recognised.token != cookie
    assert browsers.usable_token(recognised.token) == recognised.token


def test_an_account_keeps_its_20_most_recent_browsers(
    db_session: Session, settings: Settings
) -> None:
    account = rows.account(db_session)
    other = rows.account(db_session)
    now = utcnow()
    oldest = rows.known_browser(db_session, account, last_seen=now - timedelta(days=30))
    for days in range(19):
        rows.known_browser(db_session, account, last_seen=now - timedelta(days=days + 1))
    theirs = rows.known_browser(db_session, other, last_seen=now - timedelta(days=300))
    browsers.recognise(db_session, settings, account, None, UA)
    kept = browsers.known_to(db_session, account.id)
    assert len(kept) == browsers.PER_ACCOUNT
    assert oldest.id not in {row.id for row in kept}
    # Another account's browsers are not touched.
    assert [row.id for row in browsers.known_to(db_session, other.id)] == [theirs.id]


def test_unused_browsers_go_in_batches(db_session: Session) -> None:
    account = rows.account(db_session)
    now = utcnow()
    for _ in range(3):
        rows.known_browser(db_session, account, last_seen=now - timedelta(days=401))
    used = rows.known_browser(db_session, account, last_seen=now - timedelta(days=399))
    before = now - browsers.KEPT
    assert browsers.delete_unused(db_session, before=before, limit=2) == 2
    assert browsers.delete_unused(db_session, before=before, limit=2) == 1
    assert browsers.delete_unused(db_session, before=before, limit=2) == 0
    assert [row.id for row in browsers.known_to(db_session, account.id)] == [used.id]


def test_two_sign_ins_at_once_from_one_new_browser_add_it_once_and_tell_once(
    pg_engine: Engine, tmp_path: Path
) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    settings = Settings.from_env(
        {
            **portal_env(data_dir=tmp_path / "data", database_url=url, base_url="http://x"),
            **SMTP,
        }
    )
    sessions = make_session_factory(pg_engine)
    with sessions() as db:
        account_id = _with_notices_on(db).id
        token = browsers.recognise(
            db, settings, rows.found(db, Account, account_id), None, UA, first_sign_in=True
        ).token
        db.commit()
    # The same cookie, an account that does not know it yet (quick exit forgot it, say).
    with sessions() as db:
        db.execute(delete(KnownBrowser))
        db.commit()

    def sign_in(db: Session) -> None:
        browsers.recognise(db, settings, rows.found(db, Account, account_id), token, UA)

    refused = second_waits_for_first(sessions, pg_engine, sign_in, sign_in)
    assert refused is None
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(KnownBrowser)) == 1
        assert list(db.scalars(select(Notice.event))) == [NoticeEvent.NEW_BROWSER_SIGN_IN]
