"""Account rules: invitations, joining, signing in, password change and recovery.

Services take a Session and never commit. They see only public keys, wrapped bundles and keys
the browser derived (auth keys): never a password, a master key or a secret key.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import policy, throttle
from portal.accounts.hashing import DummyVerifier, hash_key, verify_key
from portal.accounts.models import Account, Invitation, InvitationPurpose, Role
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases.models import Participant
from portal.db import new_id, utcnow
from portal.errors import (
    BadInput,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    Throttled,
    WrongCredentials,
)
from portal.settings import Settings

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
INVITATION_CODE_LENGTH = 16  # 80 bits, typed by people; guessing is throttled
_LOOKALIKES = str.maketrans("OIL", "011")


# ---------------------------------------------------------------------------------- names, codes


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


def new_invitation_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITATION_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, INVITATION_CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    cleaned = code.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(_LOOKALIKES)


def code_hash(settings: Settings, code: str) -> bytes:
    return protocol.token_hash(settings.secret_key.reveal(), "invitation:" + normalize_code(code))


# ----------------------------------------------------------------------------------- invitations


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    code: str


def _new_invitation(
    db: Session,
    settings: Settings,
    *,
    purpose: InvitationPurpose,
    role: Role,
    created_by: Account | None,
    lifetime: timedelta,
    code: str,
) -> Invitation:
    now = utcnow()
    invitation = Invitation(
        code_hash=code_hash(settings, code),
        purpose=purpose,
        role=role,
        account_id=new_id(),
        kdf_salt=secrets.token_bytes(16),
        kdf_ops=settings.kdf_ops,
        kdf_mem=settings.kdf_mem_kib * 1024,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.add(invitation)
    db.flush()
    return invitation


def issue_setup_link(db: Session, settings: Settings) -> IssuedInvitation:
    """A one-time link to create a service manager; any earlier unused one stops working."""
    now = utcnow()
    db.execute(
        update(Invitation)
        .where(
            Invitation.purpose == InvitationPurpose.SETUP,
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    code = secrets.token_urlsafe(32)
    invitation = _new_invitation(
        db,
        settings,
        purpose=InvitationPurpose.SETUP,
        role=Role.SERVICE_MANAGER,
        created_by=None,
        lifetime=timedelta(hours=settings.setup_link_hours),
        code=code,
    )
    record(db, settings, AuditTag.SETUP_LINK_ISSUED, subject_id=invitation.id)
    return IssuedInvitation(invitation, code)


def has_any_account(db: Session) -> bool:
    return db.scalar(select(func.count()).select_from(Account)) != 0


def create_invitation(
    db: Session,
    settings: Settings,
    inviter: Account,
    role: Role,
    *,
    participant_id: str | None = None,
) -> IssuedInvitation:
    if not policy.can_invite(inviter, role):
        raise Forbidden("You cannot invite someone to that role.")
    code = new_invitation_code()
    invitation = _new_invitation(
        db,
        settings,
        purpose=InvitationPurpose.INVITE,
        role=role,
        created_by=inviter,
        lifetime=timedelta(days=settings.invitation_days),
        code=code,
    )
    invitation.participant_id = participant_id
    record(
        db,
        settings,
        AuditTag.INVITATION_CREATED,
        actor_id=inviter.id,
        subject_id=invitation.id,
    )
    return IssuedInvitation(invitation, code)


def invitations_visible_to(db: Session, account: Account) -> list[Invitation]:
    query = select(Invitation).where(Invitation.purpose == InvitationPurpose.INVITE)
    if account.role is not Role.SERVICE_MANAGER:
        query = query.where(Invitation.created_by_id == account.id)
    return list(db.scalars(query.order_by(Invitation.created_at.desc()).limit(200)))


def revoke_invitation(
    db: Session, settings: Settings, actor: Account, invitation_id: str
) -> Invitation:
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.purpose is not InvitationPurpose.INVITE:
        raise NotFound
    if not policy.can_manage_invitation(actor, invitation):
        raise NotFound  # not theirs: do not confirm that it exists
    if invitation.redeemed_at is not None:
        raise Conflict("This invitation has already been used, so it cannot be withdrawn.")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        record(
            db,
            settings,
            AuditTag.INVITATION_REVOKED,
            actor_id=actor.id,
            subject_id=invitation.id,
        )
    return invitation


def invitation_status(invitation: Invitation) -> str:
    if invitation.redeemed_at is not None:
        return "Used"
    if invitation.revoked_at is not None:
        return "Withdrawn"
    if invitation.expires_at <= utcnow():
        return "Expired"
    return "Waiting"


# --------------------------------------------------------------------------------------- joining


def usable_invitation(db: Session, settings: Settings, code: str) -> Invitation:
    """The invitation a code names, if it can still be used; one message for every failure."""
    if not code or len(code) > 100:
        raise Gone("That code is not valid. Check it, or ask for a new one.")
    invitation = db.scalars(
        select(Invitation).where(Invitation.code_hash == code_hash(settings, code))
    ).first()
    if (
        invitation is None
        or invitation.redeemed_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise Gone(
            "That code is not valid, has expired or has already been used. "
            "Please ask for a new one."
        )
    return invitation


@dataclass(frozen=True)
class NewAccountKeys:
    public_key: bytes
    auth_key: bytes
    bundle: bytes
    recovery_auth: bytes
    recovery_bundle: bytes


def complete_join(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    code: str,
    raw_name: str,
    keys: NewAccountKeys,
) -> Account:
    invitation = usable_invitation(db, settings, code)
    name = validate_name(raw_name)
    if db.scalars(select(Account.id).where(Account.sign_in_name == name)).first():
        raise Conflict(
            "That sign-in name is already taken. Please choose another.", field="sign_in_name"
        )
    now = utcnow()
    # Mark the invitation used in the same statement that checks it is unused, so two
    # simultaneous redemptions cannot both succeed.
    claimed = db.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.redeemed_at.is_(None))
        .values(redeemed_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise Gone("That code has already been used. Please ask for a new one.")
    account = Account(
        id=invitation.account_id,
        role=invitation.role,
        sign_in_name=name,
        kdf_salt=invitation.kdf_salt,
        kdf_ops=invitation.kdf_ops,
        kdf_mem=invitation.kdf_mem,
        auth_hash=hash_key(hasher, keys.auth_key),
        recovery_auth_hash=hash_key(hasher, keys.recovery_auth),
        public_key=keys.public_key,
        key_bundle=keys.bundle,
        recovery_bundle=keys.recovery_bundle,
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
    record(
        db,
        settings,
        AuditTag.ACCOUNT_JOINED,
        actor_id=account.id,
        subject_id=invitation.id,
    )
    if invitation.participant_id is not None:
        _join_case(db, settings, invitation.participant_id, account)
    return account


def _join_case(db: Session, settings: Settings, participant_id: str, account: Account) -> None:
    participant = db.get(Participant, participant_id)
    if participant is None or participant.account_id is not None:
        raise Gone("This invitation can no longer be used. Please ask for a new one.")
    participant.account_id = account.id
    participant.joined_at = utcnow()
    record(
        db,
        settings,
        AuditTag.PARTICIPANT_JOINED,
        actor_id=account.id,
        subject_id=participant.id,
    )


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


def authenticate(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    dummy: DummyVerifier,
    raw_name: str,
    key: bytes,
    address: str,
    *,
    recovery: bool = False,
) -> Account:
    """Check a derived key (auth key, or recovery auth key) under the shared throttle."""
    secret = settings.secret_key.reveal()
    name = normalize_name(raw_name)
    name_hash = throttle.name_key(secret, name)
    addr_hash = throttle.address_key(secret, address)
    try:
        throttle.check(db, settings, name_hash, addr_hash)
    except Throttled:
        record(db, settings, AuditTag.ACCOUNT_SIGNIN_THROTTLED)
        raise
    account = db.scalars(select(Account).where(Account.sign_in_name == name)).first()
    if account is None or account.disabled_at is not None:
        dummy.burn(key)
        ok = False
    else:
        ok = verify_key(hasher, account.recovery_auth_hash if recovery else account.auth_hash, key)
    if not ok:
        throttle.record_failure(db, name_hash, addr_hash)
        record(
            db, settings, AuditTag.ACCOUNT_SIGNIN_FAILED, subject_id=account.id if account else None
        )
        if recovery:
            raise WrongCredentials(
                "That name and recovery code do not match. Check them and try again."
            )
        raise WrongCredentials
    assert account is not None  # for the type checker: ok implies an account  # noqa: S101
    throttle.clear_account(db, name_hash)
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


def change_password(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    account: Account,
    current_auth_key: bytes,
    new: NewPasswordKeys,
    address: str,
    dummy: DummyVerifier,
) -> None:
    check_kdf_params(settings, new.ops, new.mem)
    try:
        authenticate(db, settings, hasher, dummy, account.sign_in_name, current_auth_key, address)
    except WrongCredentials:
        raise WrongCredentials(
            "Your current password is not right. Please try again.", field="current_password"
        ) from None
    _replace_password(db, hasher, account, new)
    record(
        db,
        settings,
        AuditTag.ACCOUNT_PASSWORD_CHANGED,
        actor_id=account.id,
        subject_id=account.id,
    )


def _replace_password(
    db: Session, hasher: PasswordHasher, account: Account, new: NewPasswordKeys
) -> None:
    account.kdf_salt = new.salt
    account.kdf_ops = new.ops
    account.kdf_mem = new.mem
    account.auth_hash = hash_key(hasher, new.auth_key)
    account.key_bundle = new.bundle
    account.keys_changed_at = utcnow()


def complete_recovery(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    dummy: DummyVerifier,
    raw_name: str,
    recovery_auth: bytes,
    new: NewPasswordKeys,
    new_recovery_auth: bytes,
    new_recovery_bundle: bytes,
    address: str,
) -> Account:
    check_kdf_params(settings, new.ops, new.mem)
    account = authenticate(
        db, settings, hasher, dummy, raw_name, recovery_auth, address, recovery=True
    )
    _replace_password(db, hasher, account, new)
    # The old code has been typed into a device; a fresh one replaces it.
    account.recovery_auth_hash = hash_key(hasher, new_recovery_auth)
    account.recovery_bundle = new_recovery_bundle
    record(
        db,
        settings,
        AuditTag.ACCOUNT_RECOVERED,
        actor_id=account.id,
        subject_id=account.id,
    )
    return account
