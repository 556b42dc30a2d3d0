"""Sign-in throttling that holds across server processes (the counts live in the database).

Failures are counted per account (by a keyed hash of the typed name, known or not, so an unknown
name is throttled exactly like a real one) and per client address. At ``limit`` failures inside
the window, further attempts are refused until enough of them have aged out.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import SignInFailure
from portal.db import utcnow
from portal.errors import Throttled
from portal.settings import Settings

ACCOUNT = "account"
ADDRESS = "address"
# Joining: wrong codes per address, and refused attempts (a taken name) per invitation, so that
# holding one unused code does not let anyone try sign-in names until they find which exist.
JOIN_ADDRESS = "join-address"
JOIN_CODE = "join-code"
JOIN_ATTEMPTS_PER_CODE = 5


def name_key(server_secret: bytes, normalized_name: str) -> bytes:
    return protocol.token_hash(server_secret, "throttle-name:" + normalized_name)


def address_key(server_secret: bytes, address: str) -> bytes:
    return protocol.token_hash(server_secret, "throttle-address:" + address)


def _retry_after(
    db: Session, scope: str, key: bytes, limit: int, window: timedelta, now: datetime
) -> int | None:
    recent = db.scalars(
        select(SignInFailure.at)
        .where(
            SignInFailure.scope == scope,
            SignInFailure.key_hash == key,
            SignInFailure.at > now - window,
        )
        .order_by(SignInFailure.at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    # The attempt is allowed again once the limit-th most recent failure leaves the window.
    unblock_at = recent[limit - 1] + window
    return max(1, math.ceil((unblock_at - now).total_seconds()))


def serialise_per_name(db: Session, name_hash: bytes) -> None:
    """Hold this name's lock to the end of the transaction (PostgreSQL).

    Counting failures, checking the key and recording a failure must happen as one step per
    name, or a burst of concurrent guesses would all count the same few failures and all be
    checked. On SQLite every writing transaction already holds the database's write lock.
    """
    if db.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(name_hash[:8], "big", signed=True)
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def check(db: Session, settings: Settings, name_hash: bytes, addr_hash: bytes) -> None:
    _refuse_while_over(
        db,
        settings,
        [
            (ACCOUNT, name_hash, settings.signin_max_failures_per_account),
            (ADDRESS, addr_hash, settings.signin_max_failures_per_address),
        ],
    )


def check_join(
    db: Session, settings: Settings, addr_hash: bytes, code_hash: bytes | None = None
) -> None:
    """Before a joining step: too many wrong codes from this address, or too many refused
    attempts with this code, and it waits."""
    limits = [(JOIN_ADDRESS, addr_hash, settings.signin_max_failures_per_address)]
    if code_hash is not None:
        limits.append((JOIN_CODE, code_hash, JOIN_ATTEMPTS_PER_CODE))
    _refuse_while_over(db, settings, limits, "to join")


def record_join_failure(db: Session, addr_hash: bytes, code_hash: bytes | None = None) -> None:
    now = utcnow()
    db.add(SignInFailure(scope=JOIN_ADDRESS, key_hash=addr_hash, at=now))
    if code_hash is not None:
        db.add(SignInFailure(scope=JOIN_CODE, key_hash=code_hash, at=now))
    db.flush()


def _refuse_while_over(
    db: Session,
    settings: Settings,
    limits: list[tuple[str, bytes, int]],
    attempting: str = "to sign in",
) -> None:
    now = utcnow()
    window = timedelta(minutes=settings.signin_window_minutes)
    waits = [_retry_after(db, scope, key, limit, window, now) for scope, key, limit in limits]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        raise Throttled(
            f"There have been too many attempts {attempting}. For your safety, please wait "
            f"{minutes} minute{'s' if minutes != 1 else ''} before trying again.",
            retry_after=wait,
        )


def count_in_advance(db: Session, name_hash: bytes) -> None:
    """Count a failure for the name before its key is checked (outside the transaction): the
    next attempt for the same name, waiting on serialise_per_name, sees it at once. A success
    takes it back with clear_account."""
    db.add(SignInFailure(scope=ACCOUNT, key_hash=name_hash, at=utcnow()))
    db.flush()


def record_address_failure(db: Session, addr_hash: bytes) -> None:
    """Count a failure for the client address once the key did not match (counted afterwards,
    so that many people signing in at once behind one address are not refused meanwhile)."""
    db.add(SignInFailure(scope=ADDRESS, key_hash=addr_hash, at=utcnow()))
    db.flush()


def clear_account(db: Session, name_hash: bytes) -> None:
    db.execute(
        delete(SignInFailure).where(
            SignInFailure.scope == ACCOUNT, SignInFailure.key_hash == name_hash
        )
    )


def prune(db: Session, settings: Settings, *, limit: int) -> int:
    """Drop up to ``limit`` failures older than the window (they no longer count); how many.

    Run by the maintenance job, in batches, so that the table does not only ever grow.
    """
    cutoff = utcnow() - timedelta(minutes=settings.signin_window_minutes)
    ids = list(db.scalars(select(SignInFailure.id).where(SignInFailure.at < cutoff).limit(limit)))
    if ids:
        db.execute(delete(SignInFailure).where(SignInFailure.id.in_(ids)))
    return len(ids)


# Security reports (POST /api/security-events): a browser that refused something reports it;
# counted per account, or per address for someone joining (no session), so nobody can fill the
# audit trail with reports.
REPORT = "report"
REPORTS_PER_WINDOW = 10


def report_key(server_secret: bytes, who: str) -> bytes:
    return protocol.token_hash(server_secret, "throttle-report:" + who)


def check_and_count_report(db: Session, settings: Settings, key: bytes) -> None:
    """Refuse a report over the limit; otherwise count it (kept with the report itself)."""
    _refuse_while_over(db, settings, [(REPORT, key, REPORTS_PER_WINDOW)], "to report a problem")
    db.add(SignInFailure(scope=REPORT, key_hash=key, at=utcnow()))
    db.flush()
