"""Server-side sign-in sessions.

The cookie holds a random token; the row holds only its keyed hash. A session ends when the
person signs out (here or everywhere), leaves with quick exit, is idle for too long (20 minutes
for participants and supporters, 8 hours for staff, configurable) or reaches its absolute
lifetime. Ending a session wipes its ``session_key``, so the secret key that this browser keeps
wrapped in sessionStorage can no longer be unwrapped.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from portal import protocol
from portal.accounts.models import Account, SignInSession
from portal.db import DriverQuery, ReadTransaction, utcnow
from portal.settings import Settings

# A busy page (an upload sends a request a few times a second) would otherwise write the
# session row on every request; the idle timeout is minutes long, so seconds do not matter.
TOUCH_GRANULARITY = timedelta(seconds=5)


@dataclass(frozen=True)
class Current:
    """The signed-in person for this request."""

    session_id: str
    account: Account
    idle_seconds: int
    session_key: bytes | None
    # What this session must do before anything else (portal/accounts/steps.py): "verify",
    # "enrol", or None once the second factor passed (or none is needed).
    second_factor_due: str | None = None


class EndReason:
    SIGNED_OUT = "signed-out"
    QUICK_EXIT = "quick-exit"
    IDLE = "idle"
    EXPIRED = "expired"
    ENDED_ELSEWHERE = "ended-by-owner"
    PASSWORD_CHANGED = "password-changed"  # noqa: S105  (a reason, not a password)
    RECOVERED = "recovered"


def idle_limit(settings: Settings, account: Account) -> timedelta:
    if account.role.is_staff:
        return _minutes(settings.session_idle_staff_minutes)
    return _minutes(settings.session_idle_participant_minutes)


@functools.cache
def _minutes(minutes: int) -> timedelta:
    """Every request judges its session's idle time against one of two limits: each made once."""
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class Started:
    row: SignInSession
    token: str = field(repr=False)  # for the cookie; the row keeps only its hash
    session_key: bytes = field(repr=False)  # the row's, until the session ends


def start(
    db: Session,
    settings: Settings,
    account: Account,
    user_agent: str,
    *,
    second_factor_due: str | None = None,
) -> Started:
    token = secrets.token_urlsafe(32)
    session_key = secrets.token_bytes(32)
    now = utcnow()
    row = SignInSession(
        token_hash=protocol.token_hash(settings.secret_key.reveal(), token),
        account_id=account.id,
        session_key=session_key,
        device=describe_device(user_agent),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        second_factor_due=second_factor_due,
    )
    db.add(row)
    db.flush()
    return Started(row, token, session_key)


@dataclass(frozen=True)
class Resolved:
    """What a request's session cookie names, read with one query, and what its row needs.

    Reading writes nothing, so a read-only request can resolve its session in its own
    read-only transaction; the row's write (:func:`keep`), when one is due, is the caller's to
    place: in the request's transaction if it writes, else a short transaction of its own.
    """

    current: Current | None
    session_id: str | None = None
    # The session ended now (idle, expired, account disabled): kept even if the request is
    # refused, since it ended whatever the request does.
    end_reason: str | None = None
    # The last-seen time is due to move to ``at`` (at most every TOUCH_GRANULARITY).
    touch: bool = False
    at: datetime | None = None

    @property
    def needs_write(self) -> bool:
        return self.end_reason is not None or self.touch


SIGNED_OUT = Resolved(None)

# Built once: every request runs it, and building a statement costs more than running it. A
# Core statement over the two tables, run on the request's connection: the ORM's own query
# (its compile state and row loading) cost as much again as running it.
_ACCOUNT_COLUMNS = tuple(Account.__table__.c)
_SESSIONS = SignInSession.__table__.c
_LIVE_SESSION = (
    select(
        _SESSIONS.id,
        _SESSIONS.last_seen_at,
        _SESSIONS.expires_at,
        _SESSIONS.session_key,
        _SESSIONS.second_factor_due,
        *_ACCOUNT_COLUMNS,
    )
    .select_from(SignInSession.__table__.join(Account.__table__))
    .where(_SESSIONS.token_hash == bindparam("token_hash"), _SESSIONS.ended_at.is_(None))
)
# The attribute each column is mapped to, in the statement's order.
_ACCOUNT_FIELDS = tuple(
    Account.__mapper__.get_property_by_column(column).key for column in _ACCOUNT_COLUMNS
)
_ACCOUNT_MAPPER = Account.__mapper__
_NEW_ACCOUNT = _ACCOUNT_MAPPER.class_manager.new_instance


# The same statement for a request that only reads, run on the driver (db.DriverQuery).
_LIVE_SESSION_ON_DRIVER = DriverQuery(_LIVE_SESSION)


def _account_from_row(db: Session, values: tuple[object, ...]) -> Account:
    """The Account of ``values`` (its columns, in table order), in ``db`` as if loaded there.

    It joins the session's identity map unchanged, so the request's handler may use it as any
    loaded row: change it, lock it (lock_row re-reads it), or find it again by id. A request's
    session is new, so the account is not there yet, unless a handler resolves again.
    """
    if len(db.identity_map):  # a handler resolving again: the account may be there already
        known = db.identity_map.get(identity_key(Account, values[0]))
        if isinstance(known, Account):
            return known
    account = _loaded_account(values)
    attach(db, account)
    return account


def _loaded_account(values: tuple[object, ...]) -> Account:
    """The Account of ``values``, in no ORM session yet (see :func:`attach`).

    Every column is loaded (Account has no relationships), so it reads as a loaded row; it is
    given its identity only when it joins an ORM session (:func:`attach`): a reading request
    whose handler opens none (``/account``) does not pay for that (about 5 % of the page).
    """
    if not _ACCOUNT_MAPPER.configured:
        # The ORM finishes its mappers at its first query. This builds an Account without one,
        # so in a fresh process (a new worker whose first request is signed in) they may not
        # be finished yet, and every signed-in request failed until something else queried.
        configure_mappers()
    # Made as the ORM makes a loaded row: without __init__ and its per-attribute events, the
    # values straight into the instance's dict, where the ORM keeps loaded values.
    account = cast(Account, _NEW_ACCOUNT())
    account.__dict__.update(zip(_ACCOUNT_FIELDS, values, strict=True))
    return account


def attach(db: Session, account: Account) -> None:
    """Put a resolved session's account in ``db`` as if loaded there (see
    :func:`_account_from_row`): done when a reading request's handler opens its ORM session."""
    make_transient_to_detached(account)  # as if loaded: an identity, no history to flush
    db.add(account)


def resolve(db: Session, settings: Settings, token: str | None, *, touch: bool) -> Resolved:
    """The live session named by ``token`` and its account, in one query; nothing written."""
    if not token or len(token) > 100:
        return SIGNED_OUT
    token_hash = protocol.token_hash(settings.secret_key.reveal(), token)
    found = db.connection().execute(_LIVE_SESSION, {"token_hash": token_hash}).first()
    if found is None:
        return SIGNED_OUT
    account = _account_from_row(db, tuple(found[5:]))
    return _judge(settings, tuple(found[:5]), account, touch=touch)


def resolve_reading(
    transaction: ReadTransaction, settings: Settings, token: str | None, *, touch: bool
) -> Resolved:
    """As :func:`resolve`, for a request that only reads: the same statement on the driver, in
    ``transaction``; the account is in no ORM session until the handler opens one (then
    :func:`attach`). Every rule is the same (:func:`_judge`)."""
    if not token or len(token) > 100:
        return SIGNED_OUT
    token_hash = protocol.token_hash(settings.secret_key.reveal(), token)
    found = _LIVE_SESSION_ON_DRIVER.first(transaction, {"token_hash": token_hash})
    if found is None:
        return SIGNED_OUT
    return _judge(settings, found[:5], _loaded_account(found[5:]), touch=touch)


# A live session's row as _LIVE_SESSION reads it: id, last seen, absolute end, session key,
# second factor due.
_SessionRow = tuple[str, datetime, datetime, bytes | None, str | None]


def _judge(settings: Settings, session: _SessionRow, account: Account, *, touch: bool) -> Resolved:
    """What the live session row ``session`` of ``account`` means now: ended (disabled,
    expired, idle) or current, touched or not."""
    session_id, last_seen_at, expires_at, session_key, second_factor_due = session
    now = utcnow()
    limit = idle_limit(settings, account)
    if account.disabled_at is not None:
        return Resolved(None, session_id, end_reason="disabled", at=now)
    if now >= expires_at:
        return Resolved(None, session_id, end_reason=EndReason.EXPIRED, at=now)
    if now - last_seen_at >= limit:
        return Resolved(None, session_id, end_reason=EndReason.IDLE, at=now)
    touched = touch and now - last_seen_at >= TOUCH_GRANULARITY
    if touched:
        last_seen_at = now
    remaining = min(limit - (now - last_seen_at), expires_at - now)
    current = Current(
        session_id=session_id,
        account=account,
        idle_seconds=max(0, int(remaining.total_seconds())),
        session_key=session_key,
        second_factor_due=second_factor_due,
    )
    return Resolved(current, session_id, touch=touched, at=now)


def keep(db: Session, resolved: Resolved) -> None:
    """Write what :func:`resolve` found due: the end of the session, or its last-seen time.

    Conditional on the session still being live, so that a request racing a sign-out (or
    another request ending it) never brings an ended session back.
    """
    if resolved.session_id is None or resolved.at is None:
        return
    live = (SignInSession.id == resolved.session_id) & SignInSession.ended_at.is_(None)
    if resolved.end_reason is not None:
        db.execute(
            update(SignInSession)
            .where(live)
            .values(ended_at=resolved.at, end_reason=resolved.end_reason, session_key=None)
            .execution_options(synchronize_session=False)
        )
    elif resolved.touch:
        db.execute(
            update(SignInSession)
            .where(live, SignInSession.last_seen_at < resolved.at)
            .values(last_seen_at=resolved.at)
            .execution_options(synchronize_session=False)
        )


def end(row: SignInSession, reason: str, now: datetime | None = None) -> None:
    row.ended_at = now or utcnow()
    row.end_reason = reason
    # Without it the blob in that browser's sessionStorage is useless.
    row.session_key = None


def end_by_id(db: Session, account_id: str, session_id: str, reason: str) -> bool:
    row = db.get(SignInSession, session_id)
    if row is None or row.account_id != account_id or row.ended_at is not None:
        return False
    end(row, reason)
    return True


def end_all(db: Session, account_id: str, reason: str, *, except_id: str | None = None) -> int:
    statement = (
        update(SignInSession)
        .where(SignInSession.account_id == account_id, SignInSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason, session_key=None)
    )
    if except_id is not None:
        statement = statement.where(SignInSession.id != except_id)
    result = db.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def active_for(db: Session, settings: Settings, account: Account) -> list[SignInSession]:
    now = utcnow()
    rows = db.scalars(
        select(SignInSession)
        .where(SignInSession.account_id == account.id, SignInSession.ended_at.is_(None))
        .order_by(SignInSession.last_seen_at.desc())
    ).all()
    limit = idle_limit(settings, account)
    return [r for r in rows if r.expires_at > now and now - r.last_seen_at < limit]


def delete_finished(db: Session, *, before: datetime, limit: int) -> int:
    """Remove up to ``limit`` sessions that ended, or reached their absolute end, before
    ``before``; how many. They can never be resumed and no row points at them (the audit log
    names their ids as text). Run by the maintenance job, in batches."""
    ids = list(
        db.scalars(
            select(SignInSession.id)
            .where(or_(SignInSession.ended_at < before, SignInSession.expires_at < before))
            .limit(limit)
        )
    )
    if ids:
        db.execute(delete(SignInSession).where(SignInSession.id.in_(ids)))
    return len(ids)


_BROWSERS = [
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def describe_device(user_agent: str) -> str:
    """A coarse label for the sessions list; the full user agent is not stored."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "A browser")
    if "HeadlessChrome" in user_agent:
        browser = "Chrome"
    system = next(
        (name for marker, name in _SYSTEMS if re.search(re.escape(marker), user_agent)), ""
    )
    return f"{browser} on {system}" if system else browser
