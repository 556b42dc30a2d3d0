"""Invitation rules: issuing codes (setup links, staff, case participants), revoking them, and
joining with one. Never commits.

A code is shown once, when it is made; only its keyed hash is kept. Joining creates the account
(``portal/accounts``) and, for a participant's invitation, links it to its case participant
(``portal/cases``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import services as accounts
from portal.accounts import throttle
from portal.accounts.models import Account, Role
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import services as cases
from portal.cases.models import Case, Participant
from portal.db import new_id, utcnow
from portal.errors import Conflict, Forbidden, Gone, NotFound
from portal.invitations import policy
from portal.invitations.models import Invitation, InvitationPurpose
from portal.settings import Settings

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
INVITATION_CODE_LENGTH = 16  # 80 bits, typed by people; guessing is throttled
_LOOKALIKES = str.maketrans("OIL", "011")


# ------------------------------------------------------------------------------------- codes


def new_invitation_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITATION_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, INVITATION_CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    cleaned = code.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(_LOOKALIKES)


def code_hash(settings: Settings, code: str) -> bytes:
    return protocol.token_hash(settings.secret_key.reveal(), "invitation:" + normalize_code(code))


# ---------------------------------------------------------------------------------- issuing


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


def invite_participant(
    db: Session, settings: Settings, facilitator: Account, case: Case, participant: Participant
) -> IssuedInvitation:
    """A single-use code that joins this participant; any earlier unused one stops working."""
    cases.require_not_closed(case)
    if participant.account_id is not None:
        raise Conflict("This person has already joined.")
    db.execute(
        update(Invitation)
        .where(
            Invitation.participant_id == participant.id,
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return create_invitation(
        db, settings, facilitator, Role.PARTICIPANT, participant_id=participant.id
    )


def pending_invitation(db: Session, participant: Participant) -> Invitation | None:
    return db.scalars(
        select(Invitation).where(
            Invitation.participant_id == participant.id,
            Invitation.purpose == InvitationPurpose.INVITE,
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ).first()


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


def delete_finished(db: Session, *, before: datetime, limit: int) -> int:
    """Remove up to ``limit`` invitations that stopped being usable (used, withdrawn or
    expired) before ``before``; how many. Until then they stay listed with their status on
    the invitations page. Nothing points at them (the audit log names their ids as text, and
    an account keeps the id its invitation gave it). Run by the maintenance job, in batches."""
    ids = list(
        db.scalars(
            select(Invitation.id)
            .where(
                or_(
                    Invitation.redeemed_at < before,
                    Invitation.revoked_at < before,
                    Invitation.expires_at < before,
                )
            )
            .limit(limit)
        )
    )
    if ids:
        db.execute(delete(Invitation).where(Invitation.id.in_(ids)))
    return len(ids)


def invitation_status(invitation: Invitation) -> str:
    if invitation.redeemed_at is not None:
        return "Used"
    if invitation.revoked_at is not None:
        return "Withdrawn"
    if invitation.expires_at <= utcnow():
        return "Expired"
    return "Waiting"


# ---------------------------------------------------------------------------------- joining


class CodeRefused(Gone):
    """A code that names no usable invitation; the wrong guess is counted (kept)."""

    keeps_changes = True


class NameRefused(Conflict):
    """A taken sign-in name at joining; counted against the code and the address (kept)."""

    keeps_changes = True


@dataclass(frozen=True)
class JoinAttempt:
    """Who is trying a code: the keyed hashes their refusals are counted under."""

    address: bytes

    @classmethod
    def from_address(cls, settings: Settings, address: str) -> JoinAttempt:
        return cls(throttle.address_key(settings.secret_key.reveal(), "join:" + address))


def usable_invitation(
    db: Session, settings: Settings, code: str, attempt: JoinAttempt | None = None
) -> Invitation:
    """The invitation a code names, if it can still be used; one message for every failure.

    With an ``attempt`` (a request from someone joining), wrong codes are counted per address
    and too many make it wait, like signing in.
    """
    if attempt is not None:
        throttle.check_join(db, settings, attempt.address)
    invitation = None
    if code and len(code) <= 100:
        invitation = db.scalars(
            select(Invitation).where(Invitation.code_hash == code_hash(settings, code))
        ).first()
    if (
        invitation is None
        or invitation.redeemed_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        if attempt is not None:
            throttle.record_join_failure(db, attempt.address)
        raise CodeRefused(
            "That code is not valid, has expired or has already been used. "
            "Please ask for a new one."
        )
    return invitation


def complete_join(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    code: str,
    raw_name: str,
    keys: accounts.NewAccountKeys,
    attempt: JoinAttempt | None = None,
) -> Account:
    """Redeem the code: the account it promised, and for a participant their place in the case.

    Whether a name is taken is said only to someone holding a usable code, and at most
    ``throttle.JOIN_ATTEMPTS_PER_CODE`` times per code in the window: one unused code is not a
    way to learn which sign-in names exist.
    """
    invitation = usable_invitation(db, settings, code, attempt)
    per_code = throttle.name_key(settings.secret_key.reveal(), "join-code:" + invitation.id)
    if attempt is not None:
        throttle.check_join(db, settings, attempt.address, per_code)
    try:
        name = accounts.unused_name(db, raw_name)
    except Conflict as taken:
        if attempt is None or taken.field != "sign_in_name":
            raise
        throttle.record_join_failure(db, attempt.address, per_code)
        raise NameRefused(taken.message, field=taken.field) from None
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
    account = accounts.create_account(
        db,
        hasher,
        accounts.NewAccount(
            id=invitation.account_id,
            role=invitation.role,
            sign_in_name=name,
            kdf_salt=invitation.kdf_salt,
            kdf_ops=invitation.kdf_ops,
            kdf_mem=invitation.kdf_mem,
            keys=keys,
        ),
        now=now,
    )
    record(
        db,
        settings,
        AuditTag.ACCOUNT_JOINED,
        actor_id=account.id,
        subject_id=invitation.id,
    )
    if invitation.participant_id is not None:
        joined = cases.join_participant(db, settings, invitation.participant_id, account)
        if joined is None:
            raise Gone("This invitation can no longer be used. Please ask for a new one.")
    return account
