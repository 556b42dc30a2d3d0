"""Account rules: names, new accounts, signing in, password change, recovery and the vault.

Services take a Session and never commit. They see only public keys, wrapped bundles and keys
the browser derived (auth keys): never a password, a master key or a secret key.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import sessions, throttle
from portal.accounts.hashing import DummyVerifier, hash_key, verify_key
from portal.accounts.models import Account, Role, Vault
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.db import lock_row, required, utcnow
from portal.errors import BadInput, Conflict, NotFound, Throttled, WrongCredentials
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.settings import Settings

# ------------------------------------------------------------------------------------- names


def normalize_name(raw: str) -> str:
    """The sign-in name as stored and compared: NFKC, case-folded, single spaces, trimmed."""
    name = " ".join(unicodedata.normalize("NFKC", raw).casefold().split())
    return name


def validate_name(raw: str) -> str:
    name = normalize_name(raw)
    # Letters, marks (many scripts need combining marks: Devanagari, Tamil...), numbers, and a
    # few separators: the same rule as the join page's check in static/js/pages/join.js.
    allowed = all(unicodedata.category(char)[0] in "LMN" or char in "_.-' " for char in name)
    if not (3 <= len(name) <= 64 and allowed):
        raise BadInput(
            "Use 3 to 64 letters, numbers, spaces, dots, dashes or apostrophes.",
            field="sign_in_name",
        )
    return name


def has_any_account(db: Session) -> bool:
    return db.scalar(select(func.count()).select_from(Account)) != 0


def accounts_with_ids(db: Session, ids: Iterable[str]) -> list[Account]:
    return list(db.scalars(select(Account).where(Account.id.in_(set(ids)))))


# ---------------------------------------------------------------------------- a new account


def unused_name(db: Session, raw_name: str) -> str:
    """The sign-in name as it will be stored, if it is valid and nobody has it yet."""
    name = validate_name(raw_name)
    if db.scalars(select(Account.id).where(Account.sign_in_name == name)).first():
        raise Conflict(
            "That sign-in name is already taken. Please choose another.", field="sign_in_name"
        )
    return name


@dataclass(frozen=True)
class NewAccountKeys:
    public_key: bytes
    auth_key: bytes
    bundle: bytes
    recovery_auth: bytes
    recovery_bundle: bytes
    # Derived in the browser from the identity secret key; None from a browser made before
    # trust anchors (it registers the key at its next sign-in).
    signing_public_key: bytes | None = None


@dataclass(frozen=True)
class NewAccount:
    """Everything an account starts with: what its invitation promised, and the browser's keys."""

    id: str
    role: Role
    sign_in_name: str
    kdf_salt: bytes
    kdf_ops: int
    kdf_mem: int
    keys: NewAccountKeys


@dataclass(frozen=True)
class KeyHashes:
    """argon2 hashes of a new account's two derived keys, made before its transaction."""

    auth_hash: str
    recovery_auth_hash: str


def hash_new_keys(hasher: PasswordHasher, keys: NewAccountKeys) -> KeyHashes:
    """argon2 only, no database: run it outside any transaction (``Ctx.after_hashing``)."""
    return KeyHashes(hash_key(hasher, keys.auth_key), hash_key(hasher, keys.recovery_auth))


def create_account(db: Session, hashes: KeyHashes, new: NewAccount, *, now: datetime) -> Account:
    account = Account(
        id=new.id,
        role=new.role,
        sign_in_name=new.sign_in_name,
        kdf_salt=new.kdf_salt,
        kdf_ops=new.kdf_ops,
        kdf_mem=new.kdf_mem,
        auth_hash=hashes.auth_hash,
        recovery_auth_hash=hashes.recovery_auth_hash,
        public_key=new.keys.public_key,
        signing_public_key=new.keys.signing_public_key,
        key_bundle=new.keys.bundle,
        recovery_bundle=new.keys.recovery_bundle,
        created_at=now,
        keys_changed_at=now,
    )
    db.add(account)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(
            "That sign-in name is already taken. Please choose another.", field="sign_in_name"
        ) from None
    return account


# ------------------------------------------------------------------------------------- signing in


@dataclass(frozen=True)
class KdfParams:
    salt: bytes
    ops: int
    mem: int


def kdf_params_for(db: Session, settings: Settings, raw_name: str) -> KdfParams:
    """Real parameters for a known name; stable fake ones otherwise (no enumeration)."""
    name = normalize_name(raw_name)
    account = db.scalars(select(Account).where(Account.sign_in_name == name)).first()
    if account is not None:
        return KdfParams(account.kdf_salt, account.kdf_ops, account.kdf_mem)
    return KdfParams(
        protocol.fake_salt(settings.secret_key.reveal(), name),
        settings.kdf_ops,
        settings.kdf_mem_kib * 1024,
    )


@dataclass(frozen=True)
class SignInAttempt:
    """A sign-in (or recovery) attempt between :func:`begin_attempt` and :func:`finish_attempt`.

    The key is checked with argon2 outside any transaction (:func:`key_matches`). So that a
    burst of guesses at one name cannot all be checked against the same few counted failures,
    each attempt counts as a failure of that name before its key is checked, taken back if the
    key matches. The address's failure is counted once the key did not match.
    """

    account_id: str | None
    expected_hash: str | None = field(repr=False)
    name_hash: bytes = field(repr=False)
    addr_hash: bytes = field(repr=False)
    recovery: bool


def begin_attempt(
    db: Session, settings: Settings, raw_name: str, address: str, *, recovery: bool = False
) -> SignInAttempt:
    """Refuse while throttled; otherwise count this attempt as a failure of the name for now
    (the caller commits before checking the key) and say which hash to check it against."""
    secret = settings.secret_key.reveal()
    name = normalize_name(raw_name)
    name_hash = throttle.name_key(secret, name)
    addr_hash = throttle.address_key(secret, address)
    throttle.serialise_per_name(db, name_hash)
    try:
        throttle.check(db, settings, name_hash, addr_hash)
    except Throttled:
        record(db, settings, AuditTag.ACCOUNT_SIGNIN_THROTTLED)
        raise
    account = db.scalars(select(Account).where(Account.sign_in_name == name)).first()
    throttle.count_in_advance(db, name_hash)
    usable = account is not None and account.disabled_at is None
    return SignInAttempt(
        account_id=account.id if account is not None else None,
        expected_hash=(
            None
            if account is None or not usable
            else account.recovery_auth_hash
            if recovery
            else account.auth_hash
        ),
        name_hash=name_hash,
        addr_hash=addr_hash,
        recovery=recovery,
    )


def key_matches(
    hasher: PasswordHasher, dummy: DummyVerifier, attempt: SignInAttempt, key: bytes
) -> bool:
    """argon2 only, no database: run it outside any transaction (``Ctx.after_hashing``). An
    unknown or closed account costs the same time as a known one."""
    if attempt.expected_hash is None:
        dummy.burn(key)
        return False
    return verify_key(hasher, attempt.expected_hash, key)


def finish_attempt(
    db: Session, settings: Settings, attempt: SignInAttempt, matched: bool
) -> Account:
    """The signed-in account if the key matched the hash it was checked against, which must
    still be the account's (a password changed or an account closed meanwhile fails it);
    WrongCredentials otherwise (the failure counted at the start stays)."""
    account = db.get(Account, attempt.account_id) if attempt.account_id is not None else None
    if matched and account is not None:
        lock_row(db, account)
        current = account.recovery_auth_hash if attempt.recovery else account.auth_hash
        matched = account.disabled_at is None and current == attempt.expected_hash
    if not matched or account is None:
        throttle.record_address_failure(db, attempt.addr_hash)
        record(db, settings, AuditTag.ACCOUNT_SIGNIN_FAILED, subject_id=attempt.account_id)
        if attempt.recovery:
            raise WrongCredentials(
                "That name and recovery code do not match. Check them and try again."
            )
        raise WrongCredentials
    throttle.clear_account(db, attempt.name_hash)
    return account


# ---------------------------------------------------------------------------- changing the keys


@dataclass(frozen=True)
class NewPasswordKeys:
    salt: bytes
    ops: int
    mem: int
    auth_key: bytes
    bundle: bytes


def check_kdf_params(settings: Settings, ops: int, mem: int) -> None:
    # The browser must use the service's current parameters: no silent downgrade.
    if ops != settings.kdf_ops or mem != settings.kdf_mem_kib * 1024:
        raise BadInput(
            "The security settings changed while you were working. "
            "Please reload the page and try again."
        )


def hash_new_password(
    hasher: PasswordHasher,
    dummy: DummyVerifier,
    attempt: SignInAttempt,
    current_key: bytes,
    new_auth_key: bytes,
    new_recovery_auth: bytes | None = None,
) -> tuple[bool, str | None, str | None]:
    """argon2 only, no database (``Ctx.after_hashing``): whether ``current_key`` matches and,
    only then, the hashes of the new auth key (and of a new recovery auth key)."""
    if not key_matches(hasher, dummy, attempt, current_key):
        return False, None, None
    recovery_hash = hash_key(hasher, new_recovery_auth) if new_recovery_auth else None
    return True, hash_key(hasher, new_auth_key), recovery_hash


def change_password(
    db: Session,
    settings: Settings,
    account: Account,
    attempt: SignInAttempt,
    matched: bool,
    new: NewPasswordKeys,
    new_auth_hash: str | None,
) -> None:
    """After :func:`begin_attempt` for ``account`` and :func:`hash_new_password`."""
    check_kdf_params(settings, new.ops, new.mem)
    if attempt.account_id != account.id:
        raise BadInput
    try:
        finish_attempt(db, settings, attempt, matched)
    except WrongCredentials:
        raise WrongCredentials(
            "Your current password is not right. Please try again.", field="current_password"
        ) from None
    _replace_password(account, new, required(new_auth_hash, "the new password's hash"))
    record(
        db,
        settings,
        AuditTag.ACCOUNT_PASSWORD_CHANGED,
        actor_id=account.id,
        subject_id=account.id,
    )
    # If it was not them, this is how they would find out.
    notices.queue(db, settings, [account.id], NoticeEvent.SECURITY_EVENT)


def _replace_password(account: Account, new: NewPasswordKeys, auth_hash: str) -> None:
    account.kdf_salt = new.salt
    account.kdf_ops = new.ops
    account.kdf_mem = new.mem
    account.auth_hash = auth_hash
    account.key_bundle = new.bundle
    # keys_changed_at is not touched: the key pair is the same, only its wrapping changed, and
    # the review page's "key changed on" must name the day the key pair itself changed.


def complete_recovery(
    db: Session,
    settings: Settings,
    attempt: SignInAttempt,
    hashed: tuple[bool, str | None, str | None],
    new: NewPasswordKeys,
    new_recovery_bundle: bytes,
) -> Account:
    """After :func:`begin_attempt` (``recovery=True``) and :func:`hash_new_password` of the
    recovery auth key and the new keys."""
    check_kdf_params(settings, new.ops, new.mem)
    matched, auth_hash, recovery_auth_hash = hashed
    account = finish_attempt(db, settings, attempt, matched)
    _replace_password(account, new, required(auth_hash, "the new password's hash"))
    # The old code has been typed into a device; a fresh one replaces it.
    account.recovery_auth_hash = required(recovery_auth_hash, "the new recovery code's hash")
    account.recovery_bundle = new_recovery_bundle
    record(
        db,
        settings,
        AuditTag.ACCOUNT_RECOVERED,
        actor_id=account.id,
        subject_id=account.id,
    )
    notices.queue(db, settings, [account.id], NoticeEvent.SECURITY_EVENT)
    return account


# ------------------------------------------------------------------------------ signing key


@dataclass(frozen=True)
class ShownKeys:
    """An account's public keys as pages show them."""

    digits: str  # the security number, 60 digits (security_digits)
    number: str  # the same, grouped as people read it (security_number)
    box_public_key: str  # base64
    signing_public_key: str | None  # base64; None until the account has registered one


def shown_keys(account: Account) -> ShownKeys:
    return _shown_keys(account.public_key, account.signing_public_key)


# Public keys only, so nothing secret is kept. The account's page shows them at every visit,
# and the hash, the 60-digit modulus and the encodings were about a fifteenth of /account's
# CPU.
@functools.lru_cache(maxsize=4096)
def _shown_keys(public_key: bytes, signing_public_key: bytes | None) -> ShownKeys:
    if signing_public_key is not None:
        digits = protocol.identity_fingerprint_digits(public_key, signing_public_key)
    else:
        digits = protocol.fingerprint_digits(public_key)
    return ShownKeys(
        digits=digits,
        number=protocol.format_fingerprint(digits),
        box_public_key=protocol.b64encode(public_key),
        signing_public_key=(
            protocol.b64encode(signing_public_key) if signing_public_key is not None else None
        ),
    )


def security_digits(account: Account) -> str:
    """The account's security number as people compare it (60 digits): over both keys once the
    account has a signing key, over its box key alone until then (docs/protocol-v1.md, "Which
    security number people see")."""
    return shown_keys(account).digits


def security_number(account: Account) -> str:
    """``security_digits``, grouped as people read them."""
    return shown_keys(account).number


def register_signing_key(
    db: Session, settings: Settings, account: Account, signing_public_key: bytes
) -> None:
    """An account made before trust anchors registers the signing key its browser derived.

    Accepted once: the same key again changes nothing, another one is refused (it would let
    whoever holds a session replace the key that certificates name). The server checks only
    the length; browsers check the key against certificates and security numbers.
    """
    lock_row(db, account)
    if account.signing_public_key is not None:
        if account.signing_public_key == signing_public_key:
            return
        raise Conflict("This account already has a signing key.", field="signing_public_key")
    account.signing_public_key = signing_public_key
    record(
        db,
        settings,
        AuditTag.ACCOUNT_SIGNING_KEY_REGISTERED,
        actor_id=account.id,
        subject_id=account.id,
    )


# ----------------------------------------------------------------------------------- the vault


class KdfSource(Protocol):
    """Where new keys' KDF parameters come from (an invitation: the server chose them)."""

    kdf_salt: bytes
    kdf_ops: int
    kdf_mem: int


def replace_keys(
    account: Account, kdf: KdfSource, hashes: KeyHashes, name: str, keys: NewAccountKeys
) -> None:
    """A new key pair, password and recovery code for an account that exists (re-keyed with a
    facilitator's code); the caller removes what was sealed to the old keys."""
    account.sign_in_name = name
    account.kdf_salt = kdf.kdf_salt
    account.kdf_ops = kdf.kdf_ops
    account.kdf_mem = kdf.kdf_mem
    account.auth_hash = hashes.auth_hash
    account.recovery_auth_hash = hashes.recovery_auth_hash
    account.public_key = keys.public_key
    account.signing_public_key = keys.signing_public_key
    account.key_bundle = keys.bundle
    account.recovery_bundle = keys.recovery_bundle
    account.keys_changed_at = utcnow()  # the only place it moves: a new key pair


def forget_vault(db: Session, account: Account) -> None:
    """The vault was sealed to keys the account no longer has."""
    db.execute(delete(Vault).where(Vault.account_id == account.id))


def vault_of(db: Session, account: Account) -> bytes | None:
    vault = db.get(Vault, account.id)
    return vault.blob if vault is not None else None


def save_vault(db: Session, account: Account, blob: bytes) -> None:
    vault = db.get(Vault, account.id)
    if vault is None:
        db.add(Vault(account_id=account.id, blob=blob, updated_at=utcnow()))
    else:
        vault.blob = blob
        vault.updated_at = utcnow()


# ------------------------------------------------------------------------------------ staff


def staff_accounts(db: Session) -> list[Account]:
    """Every service manager and facilitator, the longest-serving first."""
    return list(
        db.scalars(
            select(Account)
            .where(Account.role.in_([Role.SERVICE_MANAGER, Role.FACILITATOR]))
            .order_by(Account.created_at)
        )
    )


def disable_account(db: Session, settings: Settings, manager: Account, account_id: str) -> Account:
    """A service manager closes a staff account: it cannot sign in, and every session it has
    ends at once (the next request of each is signed out). Nothing it made is removed."""
    if manager.role is not Role.SERVICE_MANAGER:
        raise NotFound
    account = db.get(Account, account_id) if len(account_id) <= 36 else None
    if account is None or not account.role.is_staff:
        raise NotFound
    if account.id == manager.id:
        raise Conflict("You cannot close your own account. Another service manager can.")
    lock_row(db, account)
    if account.disabled_at is None:
        account.disabled_at = utcnow()
        sessions.end_all(db, account.id, "disabled")
        record(db, settings, AuditTag.ACCOUNT_DISABLED, actor_id=manager.id, subject_id=account.id)
        # A closed account is told nothing more: its address goes with its notices.
        notices.turn_off(db, settings, account.id, actor_id=manager.id)
    return account
