"""Invitation rules: issuing codes (setup links, staff, case participants), revoking them, and
joining with one. Never commits.

Two kinds of code:
- **browser-made** (docs/api-trust.md): the server reserves an invitation
  (``prepare_invitation``), the inviter's browser makes the code and seals the reservation with
  the code's lookup id, the hash of its redeem proof and a MAC over the invitation
  (``seal_invitation``). The server never sees the code or the MAC key: it cannot redeem the
  invitation, nor change who it says invited the joiner without the joiner's browser noticing.
- **server-made**: the setup link printed on the operator's console, and invitations made
  before trust anchors (still accepted until they are used or expire). Shown once; only a keyed
  hash is kept.

Joining creates the account (``portal/accounts``), for a participant's invitation links it to
its case participant (``portal/cases``), and at setup makes the first service manager the
service root with its own certificate (``portal/trust``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import services as accounts
from portal.accounts import throttle
from portal.accounts.models import Account, Role
from portal.accounts.sessions import end_all
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import services as cases
from portal.cases import supporters
from portal.cases.models import Case, Participant, Supporter
from portal.cases.states import ParticipantAction, SupporterAction
from portal.content import services as content
from portal.db import lock_row, new_id, required, utcnow
from portal.errors import BadInput, Conflict, Forbidden, Gone, NotFound
from portal.invitations import policy
from portal.invitations.models import Invitation, InvitationPurpose
from portal.messages import drafts
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.settings import Settings
from portal.trust import services as trust
from portal.trust.statements import SignedStatement, protocol_time

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
INVITATION_CODE_LENGTH = 16  # 80 bits, typed by people; guessing is throttled
_LOOKALIKES = str.maketrans("OIL", "011")
# Invitations whose code the inviter's browser makes (the setup link's is the server's).
BROWSER_MADE = frozenset({InvitationPurpose.INVITE, InvitationPurpose.REKEY})


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


# ------------------------------------------------------------------- browser-made codes


def prepare_invitation(
    db: Session,
    settings: Settings,
    inviter: Account,
    role: Role,
    *,
    participant: tuple[Case, Participant] | None = None,
    supporter: tuple[Case, Supporter] | None = None,
    rekey: bool = False,
) -> Invitation:
    """Reserve an invitation for the inviter's browser to make a code for and seal.

    ``rekey``: a code for a new key pair for the participant's or supporter's account, which
    exists (they lost their password and recovery code; the facilitator checked who they are
    in person). It names their account, so joining with it replaces that account's keys
    (``complete_join``); the MAC and the joiner's checks are an invitation's.

    ``participant`` (a case the inviter facilitates, and one of its participants, authorised
    by the caller) for a participant's invitation; ``supporter`` (such a case and a supporter's
    place in it) for a supporter's or representative's, which names the participant whose side
    it is (the MAC covers the case and that participant, so the joiner's browser can show
    whose side they are joining on); none for staff. Usable only once sealed; the expiry is
    whole seconds, as the MAC writes it.
    """
    if not policy.can_invite(inviter, role):
        raise Forbidden("You cannot invite someone to that role.")
    if inviter.signing_public_key is None:
        raise Conflict(
            "Your browser has not registered your signing key yet. Please sign out, sign in "
            "again and try once more."
        )
    root = trust.service_root(db)
    if root is None:
        raise Conflict(
            "This service has no root yet, so an invitation could not be vouched for. Ask your "
            "service manager to certify themself on the Certify staff page first."
        )
    side: str | None = None
    if role is Role.PARTICIPANT:
        if participant is None:
            raise BadInput("Choose the participant to invite.", field="participant_id")
        case, person = participant
        lock_row(db, person)
        cases.require_participant_action(
            case, person, ParticipantAction.REKEY if rekey else ParticipantAction.INVITE
        )
        side = person.id
    elif participant is not None:
        raise BadInput(
            "Only a participant's invitation names a participant.", field="participant_id"
        )
    if role is Role.SUPPORTER:
        if supporter is None:
            raise BadInput(
                "Invite a supporter from the case page of the person they support.",
                field="supporter_id",
            )
        case, place = supporter
        lock_row(db, place)
        supporters.require_action(
            case, place, SupporterAction.REKEY if rekey else SupporterAction.INVITE
        )
        side = place.participant_id
    elif supporter is not None:
        raise BadInput("Only a supporter's invitation names a supporter.", field="supporter_id")
    account_id = new_id()
    if rekey:
        if not (participant or supporter):
            raise BadInput("Only a participant or a supporter is given a new key here.")
        joined = (
            participant[1].account if participant else supporter[1].account if supporter else None
        )
        account_id = required(joined, "a joined person's account").id
        # One invitation names an account: earlier ones for it (used, or a re-key code not
        # used yet, which stops working now) make way.
        db.execute(delete(Invitation).where(Invitation.account_id == account_id))
    now = utcnow().replace(microsecond=0)
    invitation = Invitation(
        code_hash=None,
        purpose=InvitationPurpose.REKEY if rekey else InvitationPurpose.INVITE,
        role=role,
        account_id=account_id,
        kdf_salt=secrets.token_bytes(16),
        kdf_ops=settings.kdf_ops,
        kdf_mem=settings.kdf_mem_kib * 1024,
        created_by_id=inviter.id,
        participant_id=side,
        supporter_id=supporter[1].id if supporter else None,
        created_at=now,
        expires_at=now + timedelta(days=settings.invitation_days),
        inviter_box_public_key=inviter.public_key,
        inviter_signing_public_key=inviter.signing_public_key,
        root_account_id=root.account_id,
        root_signing_public_key=root.signing_public_key,
    )
    db.add(invitation)
    db.flush()
    record(db, settings, AuditTag.INVITATION_CREATED, actor_id=inviter.id, subject_id=invitation.id)
    return invitation


def seal_invitation(
    db: Session,
    settings: Settings,
    inviter: Account,
    invitation_id: str,
    *,
    lookup_id: str,
    redeem_proof_hash: bytes,
    mac: bytes,
) -> Invitation:
    """The inviter's browser made the code: keep what finds and checks it, and the MAC.

    Only the inviter may seal (the MAC covers their keys). For a participant, any earlier
    unused invitation stops working now, as it did when the server made the code.
    """
    invitation = db.get(Invitation, invitation_id) if len(invitation_id) <= 36 else None
    if (
        invitation is None
        or invitation.purpose not in BROWSER_MADE
        or invitation.created_by_id != inviter.id
    ):
        raise NotFound
    lock_row(db, invitation)
    rekey = invitation.purpose is InvitationPurpose.REKEY
    if invitation.lookup_id is not None or invitation.code_hash is not None:
        raise Conflict("This invitation already has its code.")
    if invitation.revoked_at is not None or invitation.expires_at <= utcnow():
        raise Gone("This invitation was withdrawn or has expired. Please make a new one.")
    if invitation.supporter_id is not None:
        place = db.get(Supporter, invitation.supporter_id)
        if place is None:
            raise Gone("This invitation can no longer be used. Please make a new one.")
        lock_row(db, place)
        supporters.require_action(
            place.participant.case,
            place,
            SupporterAction.REKEY if rekey else SupporterAction.INVITE,
        )
        _withdraw_unused(db, Invitation.supporter_id == place.id, but=invitation.id)
    elif invitation.participant_id is not None:
        person = db.get(Participant, invitation.participant_id)
        if person is None:
            raise Gone("This invitation can no longer be used. Please make a new one.")
        lock_row(db, person)
        cases.require_participant_action(
            person.case, person, ParticipantAction.REKEY if rekey else ParticipantAction.INVITE
        )
        _withdraw_unused(
            db,
            Invitation.participant_id == person.id,
            Invitation.role == Role.PARTICIPANT,
            but=invitation.id,
        )
    invitation.lookup_id = lookup_id
    invitation.redeem_proof_hash = redeem_proof_hash
    invitation.mac = mac
    invitation.sealed_at = utcnow()
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        # 128-bit lookup ids do not collide by chance: this code was sent before.
        raise Conflict("That code is already in use. Please make a new one.") from None
    record(db, settings, AuditTag.INVITATION_SEALED, actor_id=inviter.id, subject_id=invitation.id)
    return invitation


def _withdraw_unused(db: Session, *conditions: Any, but: str | None = None) -> None:
    """Unused invitations matching ``conditions`` stop working now (all but ``but``)."""
    query = update(Invitation).where(
        *conditions, Invitation.redeemed_at.is_(None), Invitation.revoked_at.is_(None)
    )
    if but is not None:
        query = query.where(Invitation.id != but)
    db.execute(query.values(revoked_at=utcnow()))


def withdraw_for_supporter(db: Session, supporter: Supporter) -> None:
    """A supporter's place was revoked: an invitation still waiting for it stops working."""
    _withdraw_unused(db, Invitation.supporter_id == supporter.id)


def invitation_by_lookup_id(db: Session, lookup_id: str) -> Invitation | None:
    """A browser-made invitation by its lookup id, in whatever state it is."""
    return db.scalars(select(Invitation).where(Invitation.lookup_id == lookup_id)).first()


def is_usable_kind(invitation: Invitation) -> bool:
    """A code exists for it: server-made, or browser-made and sealed."""
    return invitation.code_hash is not None or invitation.lookup_id is not None


# ---------------------------------------------------------------------- server-made codes


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


def pending_invitation(db: Session, participant: Participant) -> Invitation | None:
    return _pending(
        db, Invitation.participant_id == participant.id, Invitation.role == Role.PARTICIPANT
    )


def pending_supporter_invitation(db: Session, supporter: Supporter) -> Invitation | None:
    return _pending(db, Invitation.supporter_id == supporter.id)


def pending_rekey(db: Session, account_id: str) -> Invitation | None:
    """A code for a new key for this account, made and not used yet."""
    return _pending(db, Invitation.account_id == account_id, purpose=InvitationPurpose.REKEY)


def _pending(
    db: Session, *conditions: Any, purpose: InvitationPurpose = InvitationPurpose.INVITE
) -> Invitation | None:
    return db.scalars(
        select(Invitation).where(
            *conditions,
            Invitation.purpose == purpose,
            or_(Invitation.code_hash.is_not(None), Invitation.lookup_id.is_not(None)),
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ).first()


def invitations_visible_to(db: Session, account: Account) -> list[Invitation]:
    query = select(Invitation).where(Invitation.purpose.in_(BROWSER_MADE))
    if account.role is not Role.SERVICE_MANAGER:
        query = query.where(Invitation.created_by_id == account.id)
    return list(db.scalars(query.order_by(Invitation.created_at.desc()).limit(200)))


def revoke_invitation(
    db: Session, settings: Settings, actor: Account, invitation_id: str
) -> Invitation:
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.purpose not in BROWSER_MADE:
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
    if not is_usable_kind(invitation):
        return "Not finished"  # reserved, but the inviter's browser never sealed it
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


@dataclass(frozen=True)
class ByCode:
    """A server-made code: the setup link, or an invitation made before trust anchors."""

    code: str = field(repr=False)


@dataclass(frozen=True)
class ByLookupId:
    """A browser-made code, found by its lookup id (it proves nothing: it only finds)."""

    lookup_id: str


@dataclass(frozen=True)
class ByRedeemProof:
    """A browser-made code, redeemed with the proof derived from it; with its lookup id, if the
    browser sends it, the invitation is found by that and the proof's hash compared to the one
    kept in constant time."""

    redeem_proof: bytes = field(repr=False)
    lookup_id: str | None = None


Redemption = ByCode | ByLookupId | ByRedeemProof


def _find(db: Session, settings: Settings, redemption: Redemption) -> Invitation | None:
    match redemption:
        case ByCode(code):
            if not code or len(code) > 100:
                return None
            return db.scalars(
                select(Invitation).where(Invitation.code_hash == code_hash(settings, code))
            ).first()
        case ByLookupId(lookup_id):
            return invitation_by_lookup_id(db, lookup_id)
        case ByRedeemProof(proof, lookup_id):
            # What the inviter's browser kept for the server: the hash of the proof, never the
            # proof (a copy of the database cannot redeem an invitation).
            proof_hash = protocol.invitation_redeem_hash(proof)
            if lookup_id is not None:
                found = invitation_by_lookup_id(db, lookup_id)
            else:
                found = db.scalars(
                    select(Invitation).where(Invitation.redeem_proof_hash == proof_hash)
                ).first()
            if found is None or found.redeem_proof_hash is None:
                return None
            if not hmac.compare_digest(found.redeem_proof_hash, proof_hash):
                return None
            return found


def usable_invitation(
    db: Session,
    settings: Settings,
    redemption: Redemption | str,
    attempt: JoinAttempt | None = None,
) -> Invitation:
    """The invitation a code (or a browser-made code's lookup id or redeem proof) names, if it
    can still be used; one message for every failure.

    With an ``attempt`` (a request from someone joining), wrong codes are counted per address
    and too many make it wait, like signing in.
    """
    if isinstance(redemption, str):
        redemption = ByCode(redemption)
    if attempt is not None:
        throttle.check_join(db, settings, attempt.address)
    invitation = _find(db, settings, redemption)
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


@dataclass(frozen=True)
class InvitationFields:
    """What a browser-made invitation's MAC covers, as the server serves it to the joiner
    (docs/protocol-v1.md, "Invitation codes"); the joiner's browser checks it with the code."""

    fields: dict[str, object]
    mac: bytes


def served_fields(db: Session, invitation: Invitation) -> InvitationFields:
    """The MAC fields as kept when the invitation was reserved. The server serves them; it
    cannot change one (another inviter, key, root, role, case or expiry) without the joiner's
    MAC check failing."""
    mac = required(invitation.mac, "the MAC of a sealed invitation")
    participant = (
        db.get(Participant, invitation.participant_id) if invitation.participant_id else None
    )

    def key(value: bytes | None) -> str | None:
        return protocol.b64encode(value) if value is not None else None

    # A code for a new key says so under its MAC (docs/protocol-v1.md, "Invitation codes").
    rekey = {"purpose": "rekey"} if invitation.purpose is InvitationPurpose.REKEY else {}
    return InvitationFields(
        fields={
            **rekey,
            "invitation_id": invitation.id,
            "account_id": invitation.account_id,
            "role": invitation.role.value,
            "case_id": participant.case_id if participant else None,
            "participant_id": invitation.participant_id,
            "inviter_account_id": invitation.created_by_id,
            "inviter_box_public_key": key(invitation.inviter_box_public_key),
            "inviter_signing_public_key": key(invitation.inviter_signing_public_key),
            "root_account_id": invitation.root_account_id,
            "root_signing_public_key": key(invitation.root_signing_public_key),
            "expires_at": protocol_time(invitation.expires_at),
        },
        mac=mac,
    )


def check_join_allowed(db: Session, settings: Settings, attempt: JoinAttempt) -> None:
    """Throttled while this address has tried too many wrong codes (checked again, with the
    code's own limit, by complete_join)."""
    throttle.check_join(db, settings, attempt.address)


def complete_join(
    db: Session,
    settings: Settings,
    hashes: accounts.KeyHashes,
    redemption: ByCode | ByRedeemProof | str,
    raw_name: str,
    keys: accounts.NewAccountKeys,
    attempt: JoinAttempt | None = None,
    *,
    staff_cert: SignedStatement | None = None,
) -> Account:
    """Redeem the code: the account it promised, and for a participant their place in the case.

    A browser-made code is redeemed with its redeem proof, and the joiner's browser must send
    its signing key. At setup, ``staff_cert`` is the first service manager's own certificate:
    it becomes trust log entry 0 and the account the service root. On a service that has a
    root, or other service managers already, it is checked and not kept: that service manager
    is certified like other staff.

    Whether a name is taken is said only to someone holding a usable code, and at most
    ``throttle.JOIN_ATTEMPTS_PER_CODE`` times per code in the window: one unused code is not a
    way to learn which sign-in names exist.
    """
    if isinstance(redemption, str):
        redemption = ByCode(redemption)
    if isinstance(redemption, ByRedeemProof) and keys.signing_public_key is None:
        raise BadInput("Your browser's signing key is missing.", field="signing_public_key")
    invitation = usable_invitation(db, settings, redemption, attempt)
    if staff_cert is not None:
        if invitation.purpose is not InvitationPurpose.SETUP:
            raise BadInput(
                "Only the first service manager sends their own certificate.", field="staff_cert"
            )
        if keys.signing_public_key is None:
            raise BadInput("Your browser's signing key is missing.", field="signing_public_key")
    per_code = throttle.name_key(settings.secret_key.reveal(), "join-code:" + invitation.id)
    if attempt is not None:
        throttle.check_join(db, settings, attempt.address, per_code)
    rekeyed = (
        db.get(Account, invitation.account_id)
        if invitation.purpose is InvitationPurpose.REKEY
        else None
    )
    if invitation.purpose is InvitationPurpose.REKEY and rekeyed is None:
        raise Gone(_REKEY_GONE)
    try:
        if rekeyed is not None and accounts.normalize_name(raw_name) == rekeyed.sign_in_name:
            name = rekeyed.sign_in_name  # their own name, kept
        else:
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
    if rekeyed is not None:
        return _rekey(db, settings, invitation, rekeyed, hashes, name, keys)
    account = accounts.create_account(
        db,
        hashes,
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
    if invitation.supporter_id is not None:
        if supporters.join_supporter(db, settings, invitation.supporter_id, account) is None:
            raise Gone("This invitation can no longer be used. Please ask for a new one.")
    elif invitation.participant_id is not None:
        joined = cases.join_participant(db, settings, invitation.participant_id, account)
        if joined is None:
            raise Gone("This invitation can no longer be used. Please ask for a new one.")
    if staff_cert is not None:
        first = trust.first_service_manager(db)
        if trust.service_root(db) is None and first is not None and first.id == account.id:
            trust.establish_root(db, settings, account, staff_cert, field="staff_cert")
        else:
            # A service that has its root, or service managers from before trust anchors
            # (the longest-serving of them certifies themself as the root): checked, not kept.
            trust.check_own_certificate(account, staff_cert, field="staff_cert")
    return account


_REKEY_GONE = "This code can no longer be used. Please ask your facilitator for a new one."


def _rekey(
    db: Session,
    settings: Settings,
    invitation: Invitation,
    account: Account,
    hashes: accounts.KeyHashes,
    name: str,
    keys: accounts.NewAccountKeys,
) -> Account:
    """The account the re-key code names gets the keys its person's browser just made.

    Whatever was sealed to the old key is useless now and goes: every grant made to the account
    (a facilitator's browser grants again what was released to them and what they wrote once
    the new key is compared in person: ``portal/messages/regrants.py``), a participant's grant
    of the case's public key (handed over again, as after joining), the vault (sealed to the old
    key; the new browser pins the inviter and the root from this code's MAC), their drafts
    (sealed to the old key alone, so nobody can open them again; the join page says so) and
    every session. The key the
    facilitator compared before stays recorded: the new one differs, which is what refuses
    releases to it until it is compared again."""
    lock_row(db, account)
    if account.disabled_at is not None:
        raise Gone(_REKEY_GONE)
    case_id: str | None = None
    if invitation.supporter_id is not None:
        place = db.get(Supporter, invitation.supporter_id)
        if place is None or place.account_id != account.id:
            raise Gone(_REKEY_GONE)
        lock_row(db, place)
        supporters.require_action(place.participant.case, place, SupporterAction.REKEY)
        case_id = place.case_id
    elif invitation.participant_id is not None:
        person = db.get(Participant, invitation.participant_id)
        if person is None or person.account_id != account.id:
            raise Gone(_REKEY_GONE)
        lock_row(db, person)
        cases.require_participant_action(person.case, person, ParticipantAction.REKEY)
        person.case_public_grant = None
        person.case_public_grant_sender_id = None
        case_id = person.case_id
    accounts.replace_keys(account, invitation, hashes, name, keys)
    content.remove_grants_to(db, account.id)
    accounts.forget_vault(db, account)
    drafts.forget_all(db, account)
    end_all(db, account.id, "rekeyed")
    record(db, settings, AuditTag.ACCOUNT_REKEYED, actor_id=account.id, subject_id=invitation.id)
    # New password and keys, as after a password change: if it was not them, this is how they
    # would find out (their notice address, if any, is kept).
    notices.queue(db, settings, [account.id], NoticeEvent.SECURITY_EVENT)
    if case_id is not None:
        # A new key: releases to it wait until a facilitator compares it in person.
        cases.queue_notice_for_facilitators(db, settings, case_id, NoticeEvent.KEY_TO_VERIFY)
    return account
