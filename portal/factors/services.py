"""Second-factor rules: which factors an account holds, setting up an authenticator app,
backup codes, passing the step after the password, removing and resetting.

Services take a Session and never commit. Errors (portal/errors.py)::

    PortalError
    ├── BadInput            a code that is not one, an unknown or finished ceremony
    ├── Conflict            removing staff's last factor
    ├── WrongSecondFactor   a wrong, used or replayed code or passkey (401, counted, audited)
    └── Throttled           too many wrong ones for this account or address (429)

A TOTP secret is kept sealed (XSalsa20-Poly1305) with a key derived from the server secret, so
a copy of the database alone does not give the codes. Backup codes have 50 random bits each and
are kept only as keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from nacl.secret import SecretBox
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import sessions, steps, throttle
from portal.accounts.models import Account, SignInSession
from portal.accounts.sessions import Current
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound, Throttled, WrongSecondFactor
from portal.factors import gate
from portal.factors.models import (
    BackupCode,
    CeremonyPurpose,
    FactorCeremony,
    FactorKind,
    SecondFactor,
)
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.settings import Settings

BACKUP_CODES = 10
# Lower-case letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols, ten of them
# give 49 random bits.
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_BACKUP_LENGTH = 10
# A set-up or sign-in ceremony left this long is refused: start again.
CEREMONY_LIFETIME = timedelta(minutes=10)
# The name an authenticator app and a phone's passkey list show for this account: neutral,
# because others may see a participant's phone (nothing there may say restorative justice).
ISSUER = "Secure portal"

# ------------------------------------------------------------------------------------ reading


def factors_of(db: Session, account_id: str) -> list[SecondFactor]:
    return list(
        db.scalars(
            select(SecondFactor)
            .where(SecondFactor.account_id == account_id)
            .order_by(SecondFactor.created_at)
        )
    )


def holds_a_factor(db: Session, account_id: str) -> bool:
    found = db.scalar(
        select(func.count()).select_from(SecondFactor).where(SecondFactor.account_id == account_id)
    )
    return bool(found)


def backup_codes_left(db: Session, account_id: str) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(BackupCode)
            .where(BackupCode.account_id == account_id, BackupCode.used_at.is_(None))
        )
        or 0
    )


def due_after_password(db: Session, account: Account) -> str | None:
    return gate.due_after_password(account, holds_a_factor(db, account.id))


# --------------------------------------------------------------------------------- ceremonies


def _box(settings: Settings) -> SecretBox:
    key = hashlib.blake2b(
        b"portal second factor: totp secrets v1",
        key=settings.secret_key.reveal()[:64],
        digest_size=SecretBox.KEY_SIZE,
    ).digest()
    return SecretBox(key)


def seal_totp_secret(settings: Settings, secret: str) -> bytes:
    return bytes(_box(settings).encrypt(secret.encode("ascii")))


def open_totp_secret(settings: Settings, sealed: bytes) -> str:
    return _box(settings).decrypt(sealed).decode("ascii")


def keep_ceremony(db: Session, session_id: str, purpose: CeremonyPurpose, payload: bytes) -> None:
    """The one ceremony of ``purpose`` for this session (a new one replaces the last)."""
    db.execute(
        delete(FactorCeremony).where(
            FactorCeremony.session_id == session_id, FactorCeremony.purpose == purpose
        )
    )
    db.add(FactorCeremony(session_id=session_id, purpose=purpose, payload=payload))
    db.flush()


def take_ceremony(
    db: Session, session_id: str, purpose: CeremonyPurpose, *, keep: bool = False
) -> bytes:
    """The ceremony's payload, used up (unless ``keep``); BadInput if none is live."""
    found = db.get(FactorCeremony, (session_id, purpose), with_for_update=True)
    if found is None or found.created_at < utcnow() - CEREMONY_LIFETIME:
        raise BadInput("That step has expired. Please start it again.")
    payload = found.payload
    if not keep:
        db.delete(found)
        db.flush()
    return payload


# ---------------------------------------------------------------------------- authenticator app


@dataclass(frozen=True)
class AppSetup:
    secret: str
    uri: str
    qr_svg: str


def app_setup(settings: Settings, account: Account, secret: str) -> AppSetup:
    """What the set-up page shows: the secret as text and as a QR code (SVG made here, with
    attributes only: the CSP forbids style)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.sign_in_name, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", omitsize=False)
    return AppSetup(secret=secret, uri=uri, qr_svg=svg)


def start_app_setup(db: Session, settings: Settings, current: Current) -> str:
    secret = pyotp.random_base32()
    keep_ceremony(
        db, current.session_id, CeremonyPurpose.APP_SETUP, seal_totp_secret(settings, secret)
    )
    return secret


def pending_app_secret(db: Session, settings: Settings, current: Current) -> str | None:
    found = db.get(FactorCeremony, (current.session_id, CeremonyPurpose.APP_SETUP))
    if found is None or found.created_at < utcnow() - CEREMONY_LIFETIME:
        return None
    return open_totp_secret(settings, found.payload)


def totp_step(secret: str, code: str, at: datetime, after_step: int | None) -> int | None:
    """The 30-second step whose code ``code`` is, within one step either side of ``at``, and
    later than ``after_step`` (a code is never accepted twice); None if none."""
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for step in (now_step - 1, now_step, now_step + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _six_digits(raw: str) -> str | None:
    digits = "".join(raw.split())
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


def confirm_app(
    db: Session, settings: Settings, current: Current, raw_code: str, *, at: datetime
) -> SecondFactor:
    """Add the app whose set-up this session started, once its first code is right."""
    code = _six_digits(raw_code)
    if code is None:
        raise BadInput("Type the 6 digits your app shows.", field="code")
    sealed = take_ceremony(db, current.session_id, CeremonyPurpose.APP_SETUP, keep=True)
    secret = open_totp_secret(settings, sealed)
    step = totp_step(secret, code, at, None)
    if step is None:
        raise BadInput(
            "That code did not match. Check the time on your phone and type the newest code.",
            field="code",
        )
    take_ceremony(db, current.session_id, CeremonyPurpose.APP_SETUP)
    factor = SecondFactor(
        account_id=current.account.id,
        kind=FactorKind.APP,
        totp_secret_sealed=sealed,
        totp_last_step=step,
        last_used_at=at,
    )
    return added(db, settings, current, factor)


def added(db: Session, settings: Settings, current: Current, factor: SecondFactor) -> SecondFactor:
    """Keep a new factor: it counts as this session's second factor too."""
    db.add(factor)
    db.flush()
    record(
        db,
        settings,
        AuditTag.SECOND_FACTOR_ADDED,
        actor_id=current.account.id,
        subject_id=factor.id,
    )
    _tell(db, settings, current.account, current.session_id)
    passed(db, current)
    return factor


# The session an account was made in (joining makes both in one request) sets up its first
# factor and backup codes without a notice: that is the person setting up, not news to them.
JOINED_WITHIN = timedelta(minutes=1)


def _tell(db: Session, settings: Settings, account: Account, session_id: str | None) -> None:
    """A factor added, removed, reset or new backup codes: if it was not the person (someone
    with their password adding a factor of their own first), this is how they would find out,
    as after a password change. Not in the session the account was made in."""
    if session_id is not None:
        began = db.scalar(select(SignInSession.created_at).where(SignInSession.id == session_id))
        if began is not None and began - account.created_at < JOINED_WITHIN:
            return
    notices.queue(db, settings, [account.id], NoticeEvent.SECURITY_EVENT)


def add_app_factor(db: Session, settings: Settings, account: Account, secret: str) -> SecondFactor:
    """An app factor with a known secret, straight in (the demo and the tests' back door use
    it; people go through :func:`start_app_setup` and :func:`confirm_app`)."""
    factor = SecondFactor(
        account_id=account.id,
        kind=FactorKind.APP,
        totp_secret_sealed=seal_totp_secret(settings, secret),
    )
    db.add(factor)
    db.flush()
    return factor


# ---------------------------------------------------------------------------------- backup codes


def _backup_hash(settings: Settings, account_id: str, normalized: str) -> bytes:
    return protocol.token_hash(
        settings.secret_key.reveal(), f"backup-code:{account_id}:{normalized}"
    )


def _normalize_backup(raw: str) -> str | None:
    code = "".join(ch for ch in raw.casefold() if ch.isalnum())
    if len(code) != _BACKUP_LENGTH or not code.isascii():
        return None
    return code


def make_backup_codes(
    db: Session, settings: Settings, account: Account, session_id: str
) -> list[str]:
    """Ten new single-use codes, replacing any left; shown once, kept as keyed hashes."""
    lock_row(db, account)
    db.execute(delete(BackupCode).where(BackupCode.account_id == account.id))
    codes = [
        "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))
        for _ in range(BACKUP_CODES)
    ]
    for code in codes:
        db.add(
            BackupCode(account_id=account.id, code_hash=_backup_hash(settings, account.id, code))
        )
    db.flush()
    record(
        db,
        settings,
        AuditTag.SECOND_FACTOR_BACKUP_CODES_MADE,
        actor_id=account.id,
        subject_id=account.id,
    )
    _tell(db, settings, account, session_id)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


# ------------------------------------------------------------------------- the step after sign-in


def _throttle_key(settings: Settings, account_id: str) -> bytes:
    return protocol.token_hash(settings.secret_key.reveal(), "throttle-second-factor:" + account_id)


@dataclass(frozen=True)
class Attempt:
    account_key: bytes
    address_key: bytes


def begin_attempt(db: Session, settings: Settings, current: Current, address: str) -> Attempt:
    """Refuse while throttled (as the password step: per account and per address)."""
    attempt = Attempt(
        _throttle_key(settings, current.account.id),
        throttle.address_key(settings.secret_key.reveal(), address),
    )
    throttle.serialise_per_name(db, attempt.account_key)
    try:
        throttle.check(db, settings, attempt.account_key, attempt.address_key)
    except Throttled:
        record(
            db,
            settings,
            AuditTag.SECOND_FACTOR_THROTTLED,
            actor_id=current.account.id,
            subject_id=current.session_id,
        )
        raise
    return attempt


def failed(
    db: Session, settings: Settings, current: Current, attempt: Attempt
) -> WrongSecondFactor:
    """Count and audit a wrong attempt; the error to raise (it keeps these changes)."""
    throttle.count_in_advance(db, attempt.account_key)
    throttle.record_address_failure(db, attempt.address_key)
    record(
        db,
        settings,
        AuditTag.SECOND_FACTOR_FAILED,
        actor_id=current.account.id,
        subject_id=current.session_id,
    )
    return WrongSecondFactor()


def succeeded(
    db: Session, settings: Settings, current: Current, attempt: Attempt, factor_id: str
) -> None:
    throttle.clear_account(db, attempt.account_key)
    record(
        db,
        settings,
        AuditTag.SECOND_FACTOR_PASSED,
        actor_id=current.account.id,
        subject_id=factor_id,
    )
    passed(db, current)


def passed(db: Session, current: Current) -> None:
    """This session owes nothing more."""
    row = db.get(SignInSession, current.session_id)
    if row is not None and row.second_factor_due is not None:
        lock_row(db, row)
        row.second_factor_due = None
        db.flush()


def pass_with_code(
    db: Session,
    settings: Settings,
    current: Current,
    raw_code: str,
    address: str,
    *,
    at: datetime,
) -> None:
    """Clear the session's owed step with an app's code or an unused backup code."""
    if current.second_factor_due != steps.VERIFY:
        raise BadInput("There is nothing to confirm in this session.")
    attempt = begin_attempt(db, settings, current, address)
    account_id = current.account.id
    code = _six_digits(raw_code)
    if code is not None:
        apps = db.scalars(
            select(SecondFactor)
            .where(SecondFactor.account_id == account_id, SecondFactor.kind == FactorKind.APP)
            .with_for_update()
        ).all()
        for app in apps:
            sealed = app.totp_secret_sealed
            if sealed is None:
                continue
            step = totp_step(open_totp_secret(settings, sealed), code, at, app.totp_last_step)
            if step is not None:
                app.totp_last_step = step
                app.last_used_at = at
                succeeded(db, settings, current, attempt, app.id)
                return
    backup = _normalize_backup(raw_code)
    if backup is not None:
        found = db.scalars(
            select(BackupCode)
            .where(
                BackupCode.account_id == account_id,
                BackupCode.code_hash == _backup_hash(settings, account_id, backup),
            )
            .with_for_update()
        ).first()
        if found is not None and found.used_at is None:
            found.used_at = at
            record(
                db,
                settings,
                AuditTag.SECOND_FACTOR_BACKUP_CODE_USED,
                actor_id=account_id,
                subject_id=found.id,
            )
            succeeded(db, settings, current, attempt, found.id)
            return
    raise failed(db, settings, current, attempt)


# ------------------------------------------------------------------------ removing and resetting


def remove_factor(db: Session, settings: Settings, current: Current, factor: SecondFactor) -> None:
    """Remove one of the account's own factors (policy.own_factor found it)."""
    account = current.account
    lock_row(db, account)  # two removals at once must not both leave staff with none
    factor_id = factor.id
    if db.scalar(select(SecondFactor.id).where(SecondFactor.id == factor_id)) is None:
        raise NotFound("That second factor was already removed.")  # by a request just before
    if account.role.is_staff and len(factors_of(db, account.id)) <= 1:
        raise Conflict(
            "Staff keep at least one second factor. Add another one before you remove this one."
        )
    db.delete(factor)
    if not factors_of(db, account.id):
        # A participant who removed their only factor: backup codes alone are not a factor.
        db.execute(delete(BackupCode).where(BackupCode.account_id == account.id))
    db.flush()
    record(db, settings, AuditTag.SECOND_FACTOR_REMOVED, actor_id=account.id, subject_id=factor_id)
    _tell(db, settings, account, current.session_id)


def reset(
    db: Session, settings: Settings, subject: Account, *, actor_id: str | None, tag: AuditTag
) -> int:
    """Remove every factor and backup code of ``subject`` and end their sessions: at their next
    sign-in, staff set one up again. How many factors went."""
    lock_row(db, subject)
    gone = len(factors_of(db, subject.id))
    db.execute(delete(SecondFactor).where(SecondFactor.account_id == subject.id))
    db.execute(delete(BackupCode).where(BackupCode.account_id == subject.id))
    sessions.end_all(db, subject.id, sessions.EndReason.ENDED_ELSEWHERE)
    db.flush()
    record(db, settings, tag, actor_id=actor_id, subject_id=subject.id)
    _tell(db, settings, subject, None)
    return gone
