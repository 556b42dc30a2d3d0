"""Browsers an account signed in from before, and the notice for a sign-in from another one.

A browser that signs in is given a long-lived random token in a cookie (``KNOWN_BROWSER_COOKIE``,
HttpOnly, SameSite=Strict, Secure under https, 400 days); the row keeps a keyed hash of the
account id and the token, never the token. One cookie per browser, one row per account it
signed in to: on a shared computer each account knows the browser on its own, and the rows of
two accounts cannot be linked from the database (the hash binds the account id).

A sign-in (password, or recovery code) from a browser the account does not know queues a
``NEW_BROWSER_SIGN_IN`` notice for the account and an audit row, ids only. It is decided when
the password is proved, before any second factor: someone who knows the password but not the
factor is exactly what the person should hear about. Joining is the account's first browser:
no notice. Signing out and a session ending keep the cookie; quick exit forgets it
(:func:`forget_on_quick_exit`: no trace of the portal stays in the browser), so the next
sign-in there is told as a new browser.

Services take a Session and never commit. Errors::

    PortalError
    └── NotFound (404)  forgetting a browser that is not (or no longer) in the account's list
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account, KnownBrowser
from portal.accounts.sessions import describe_device
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.db import utcnow
from portal.errors import NotFound
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.settings import Settings

# Browsers keep a cookie at most 400 days (RFC 6265bis); a row unused as long goes with it.
KEPT = timedelta(days=400)
COOKIE_MAX_AGE = int(KEPT.total_seconds())
# The most recent browsers an account keeps; older ones are forgotten at the next new one.
PER_ACCOUNT = 20
# What secrets.token_urlsafe(32) makes; anything else in the cookie is replaced.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Recognised:
    """The browser as this sign-in left it: the token for its cookie, and whether it was new."""

    row: KnownBrowser
    token: str = field(repr=False)
    new: bool


def token_hash(settings: Settings, account_id: str, token: str) -> bytes:
    return protocol.token_hash(settings.secret_key.reveal(), f"known-browser:{account_id}:{token}")


def usable_token(token: str | None) -> str | None:
    return token if token is not None and _TOKEN.fullmatch(token) else None


def recognise(
    db: Session,
    settings: Settings,
    account: Account,
    token: str | None,
    user_agent: str,
    *,
    first_sign_in: bool = False,
) -> Recognised:
    """Note that ``account`` signed in from the browser whose cookie holds ``token`` (None: no
    cookie); a browser it does not know is added and, unless ``first_sign_in`` (joining), told
    to the account by a notice and audited."""
    # Two sign-ins of one account at once from one new browser must not both add it (the row
    # is unique) nor both notify: the second waits here, then finds the first's row.
    db.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    now = utcnow()
    token = usable_token(token) or secrets.token_urlsafe(32)
    hashed = token_hash(settings, account.id, token)
    device = describe_device(user_agent)
    found = db.scalars(
        select(KnownBrowser).where(
            KnownBrowser.token_hash == hashed, KnownBrowser.account_id == account.id
        )
    ).first()
    if found is not None:
        found.last_seen_at = now
        found.device = device
        db.flush()
        return Recognised(found, token, new=False)
    row = KnownBrowser(
        account_id=account.id,
        token_hash=hashed,
        device=device,
        first_seen_at=now,
        last_seen_at=now,
    )
    db.add(row)
    db.flush()
    _keep_most_recent(db, account.id)
    if not first_sign_in:
        record(
            db,
            settings,
            AuditTag.ACCOUNT_SIGNED_IN_NEW_BROWSER,
            actor_id=account.id,
            subject_id=row.id,
        )
        # The mail says only that there is something new; the words are in the portal.
        notices.queue(db, settings, [account.id], NoticeEvent.NEW_BROWSER_SIGN_IN, now=now)
    return Recognised(row, token, new=True)


def _keep_most_recent(db: Session, account_id: str) -> None:
    older = list(
        db.scalars(
            select(KnownBrowser.id)
            .where(KnownBrowser.account_id == account_id)
            .order_by(KnownBrowser.last_seen_at.desc(), KnownBrowser.id)
            .offset(PER_ACCOUNT)
        )
    )
    if older:
        db.execute(delete(KnownBrowser).where(KnownBrowser.id.in_(older)))


def known_to(db: Session, account_id: str) -> list[KnownBrowser]:
    """The account's browsers, the most recently used first (its sessions page)."""
    return list(
        db.scalars(
            select(KnownBrowser)
            .where(KnownBrowser.account_id == account_id)
            .order_by(KnownBrowser.last_seen_at.desc(), KnownBrowser.id)
        )
    )


def this_browser_id(
    db: Session, settings: Settings, account_id: str, token: str | None
) -> str | None:
    """The row of the browser holding ``token``, if the account knows it."""
    usable = usable_token(token)
    if usable is None:
        return None
    return db.scalar(
        select(KnownBrowser.id).where(
            KnownBrowser.token_hash == token_hash(settings, account_id, usable),
            KnownBrowser.account_id == account_id,
        )
    )


def forget(db: Session, settings: Settings, account: Account, browser_id: str) -> None:
    """Forget one of the account's own browsers: its next sign-in there is told as new.

    NotFound for another account's browser, as for one that does not exist."""
    found = db.scalars(
        select(KnownBrowser)
        .where(KnownBrowser.id == browser_id, KnownBrowser.account_id == account.id)
        .with_for_update()
    ).first()
    if found is None:
        raise NotFound("That browser is not in your list. It may have been forgotten already.")
    db.delete(found)
    db.flush()
    record(
        db, settings, AuditTag.KNOWN_BROWSER_FORGOTTEN, actor_id=account.id, subject_id=browser_id
    )


def forget_on_quick_exit(
    db: Session, settings: Settings, account_id: str, token: str | None
) -> None:
    """Quick exit clears the cookie; the account's row for it goes too (nothing could use it)."""
    usable = usable_token(token)
    if usable is None:
        return
    db.execute(
        delete(KnownBrowser).where(
            KnownBrowser.token_hash == token_hash(settings, account_id, usable),
            KnownBrowser.account_id == account_id,
        )
    )


def delete_unused(db: Session, *, before: datetime, limit: int) -> int:
    """Remove up to ``limit`` browsers last used before ``before``; how many. Their cookie has
    expired in the browser too. Run by the maintenance job, in batches."""
    ids = list(
        db.scalars(select(KnownBrowser.id).where(KnownBrowser.last_seen_at < before).limit(limit))
    )
    if ids:
        db.execute(delete(KnownBrowser).where(KnownBrowser.id.in_(ids)))
    return len(ids)
