"""Referral rules that touch the database: the referral key, who holds it, and receiving a
referral. Services never commit (web.endpoint does).

The server checks what it can (the statement's signature under the signer's registered key,
who may hold the key, the shape and size of what arrives) so that garbage is refused with a
4xx; no browser relies on it: each checks the statement against the trust log itself, and only
a browser that holds the secret key can make a grant of it (docs/api-referrals.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Select, delete, select, text
from sqlalchemy.orm import Session

from portal import local_time, protocol
from portal.accounts.models import Account, Role, SignInFailure
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases.models import Case, CaseStage, StageMove
from portal.db import HOME_TOUCHES, lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound, Throttled, TooLarge
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.referrals import rules
from portal.referrals.models import (
    Channel,
    Referral,
    ReferralKey,
    ReferralKeyGrant,
    ReferralReader,
    Source,
)
from portal.referrals.states import ReferralState
from portal.settings import Settings
from portal.trust import services as trust
from portal.trust.statements import SignedStatement, key_text, open_signed

# A referral key grant: nonce, box tag, context, both public keys, key id, secret key.
GRANT_BYTES: Final = 24 + 16 + len(b"portal/v1/grant/referral-key\x00") + 64 + 36 + 32
SEALED_SIZES: Final = protocol.referral_sealed_sizes()
MAX_SEALED: Final = max(SEALED_SIZES)
# Throttle scopes in signin_failures (16 characters at most): each accepted referral is counted
# once per client address (a keyed hash, gone after the window) and once for the service.
PER_ADDRESS: Final = "referral-address"
PER_SERVICE: Final = "referral-service"
_SERIALISE_KEY: Final = 727016  # pg_advisory_xact_lock: one referral counted at a time


def current_key(db: Session) -> ReferralKey | None:
    """The service's referral key (one today; the newest, should a later change replace it)."""
    return db.scalars(select(ReferralKey).order_by(ReferralKey.created_at.desc()).limit(1)).first()


def grant_of(db: Session, key: ReferralKey, account_id: str) -> ReferralKeyGrant | None:
    # A statement, not the identity map: after waiting for a lock, what committed meanwhile.
    return db.scalar(
        select(ReferralKeyGrant).where(
            ReferralKeyGrant.key_id == key.id, ReferralKeyGrant.account_id == account_id
        )
    )


def is_designated(db: Session, account_id: str) -> bool:
    found = db.scalar(
        select(ReferralReader.account_id).where(ReferralReader.account_id == account_id)
    )
    return found is not None


def may_hold_the_key(db: Session, account: Account) -> bool:
    """Who may be given the referral key: a service manager whose signature counts, or a
    certified, unrevoked facilitator (designated when given it); open accounts only."""
    if account.disabled_at is not None:
        return False
    if account.role is Role.SERVICE_MANAGER:
        return trust.may_sign_for_the_service(db, account)
    if account.role is Role.FACILITATOR:
        return trust.is_certified(db, account.id) and not trust.is_revoked(db, account.id)
    return False


def create_key(
    db: Session,
    settings: Settings,
    manager: Account,
    *,
    key_id: str,
    public_key: bytes,
    signed: SignedStatement,
    grant: bytes,
) -> ReferralKey:
    """The referral key a service manager's browser made: its public half, the signed
    statement naming it, and the manager's own grant of its secret half. Refused once the
    service has one (Conflict); two managers at once take turns on the root's row."""
    root = trust.service_root(db)
    if root is None or not trust.may_sign_for_the_service(db, manager):
        raise Conflict(
            "Only a certified service manager can set up referrals. Ask the service's first "
            "service manager to certify you."
        )
    fields = open_signed("referral-key", manager.signing_public_key, signed, field="statement")
    if (
        fields["key_id"] != key_id
        or fields["referral_public_key"] != key_text(public_key)
        or fields["issuer_account_id"] != manager.id
    ):
        raise BadInput("The signed referral key does not name this key and you.", field="statement")
    _check_grant(grant)
    lock_row(db, root)
    if current_key(db) is not None:
        raise Conflict("Referrals are already set up for this service.")
    if db.get(ReferralKey, key_id) is not None:
        raise Conflict("That key id is taken. Please reload the page and try again.")
    now = utcnow()
    key = ReferralKey(
        id=key_id,
        public_key=public_key,
        statement=signed.statement,
        signature=signed.signature,
        signer_account_id=manager.id,
        created_at=now,
    )
    db.add(key)
    db.flush()
    db.add(
        ReferralKeyGrant(
            key_id=key.id,
            account_id=manager.id,
            sender_account_id=manager.id,
            sender_public_key=manager.public_key,
            grant=grant,
            created_at=now,
        )
    )
    db.flush()
    record(db, settings, AuditTag.REFERRAL_KEY_CREATED, actor_id=manager.id, subject_id=key.id)
    return key


def _check_grant(grant: bytes) -> None:
    if len(grant) != GRANT_BYTES:
        raise BadInput("The key's grant is not in the right form.", field="grant")


def give_access(
    db: Session, settings: Settings, manager: Account, account_id: str, grant: bytes
) -> Account:
    """A grant of the referral key from this manager's browser to a colleague: a further
    service manager, or a facilitator, who is then designated to read referrals."""
    key = _key_the_manager_holds(db, manager)
    _check_grant(grant)
    recipient = db.get(Account, account_id)
    if recipient is None or recipient.id == manager.id:
        raise NotFound("There is no such colleague.")
    lock_row(db, recipient)  # giving and removing access for one person take turns
    if not may_hold_the_key(db, recipient):
        raise Conflict(
            "Only a certified service manager or facilitator can read referrals. Certify them "
            "first."
        )
    if grant_of(db, key, recipient.id) is not None:
        raise Conflict("They can already read referrals.")
    now = utcnow()
    if recipient.role is Role.FACILITATOR and not is_designated(db, recipient.id):
        db.add(
            ReferralReader(account_id=recipient.id, designated_by_id=manager.id, designated_at=now)
        )
    db.add(
        ReferralKeyGrant(
            key_id=key.id,
            account_id=recipient.id,
            sender_account_id=manager.id,
            sender_public_key=manager.public_key,
            grant=grant,
            created_at=now,
        )
    )
    db.flush()
    tag = (
        AuditTag.REFERRAL_READER_DESIGNATED
        if recipient.role is Role.FACILITATOR
        else AuditTag.REFERRAL_KEY_GRANTED
    )
    record(db, settings, tag, actor_id=manager.id, subject_id=recipient.id)
    return recipient


def _key_the_manager_holds(db: Session, manager: Account) -> ReferralKey:
    if not trust.may_sign_for_the_service(db, manager):
        raise Conflict("Only a certified service manager can give access to referrals.")
    key = current_key(db)
    if key is None:
        raise Conflict("Referrals are not set up yet.")
    if grant_of(db, key, manager.id) is None:
        raise Conflict(
            "Your browser does not hold the referral key yet. Ask the service manager who set "
            "up referrals to give you access first."
        )
    return key


def remove_reader(db: Session, settings: Settings, manager: Account, account_id: str) -> Account:
    """End a facilitator's designation and delete their grant at once."""
    if not trust.may_sign_for_the_service(db, manager):
        raise Conflict("Only a certified service manager can change who reads referrals.")
    reader = db.get(ReferralReader, account_id)
    person = db.get(Account, account_id)
    if reader is None or person is None:
        raise NotFound("They are not designated to read referrals.")
    lock_row(db, person)
    # Read again, not from the session's identity map: another removal may have committed while
    # this one waited for the row.
    still = db.scalar(
        select(ReferralReader.account_id).where(ReferralReader.account_id == account_id)
    )
    if still is None:
        raise NotFound("They are not designated to read referrals.")
    db.execute(delete(ReferralKeyGrant).where(ReferralKeyGrant.account_id == account_id))
    db.execute(
        delete(ReferralReader)
        .where(ReferralReader.account_id == account_id)
        .execution_options(**{HOME_TOUCHES: {"accounts": [account_id]}})
    )
    db.flush()
    record(
        db, settings, AuditTag.REFERRAL_READER_REMOVED, actor_id=manager.id, subject_id=person.id
    )
    return person


@dataclass(frozen=True)
class Holders:
    """Who holds the referral key and who could be given it, for the Referrals page."""

    readers: list[Account]  # designated facilitators (with a grant)
    facilitators: list[Account]  # certified facilitators not designated
    managers_waiting: list[Account]  # certified service managers without a grant
    managers_holding: list[Account]


def holders(db: Session, key: ReferralKey | None) -> Holders:
    staff = list(
        db.scalars(
            select(Account)
            .where(
                Account.role.in_([Role.SERVICE_MANAGER, Role.FACILITATOR]),
                Account.disabled_at.is_(None),
            )
            .order_by(Account.sign_in_name)
        )
    )
    designated = set(db.scalars(select(ReferralReader.account_id)))
    granted = (
        set(
            db.scalars(select(ReferralKeyGrant.account_id).where(ReferralKeyGrant.key_id == key.id))
        )
        if key is not None
        else set()
    )
    eligible = [account for account in staff if may_hold_the_key(db, account)]
    return Holders(
        readers=[a for a in eligible if a.role is Role.FACILITATOR and a.id in designated],
        facilitators=[a for a in eligible if a.role is Role.FACILITATOR and a.id not in designated],
        managers_waiting=[
            a for a in eligible if a.role is Role.SERVICE_MANAGER and a.id not in granted
        ],
        managers_holding=[
            a for a in eligible if a.role is Role.SERVICE_MANAGER and a.id in granted
        ],
    )


# ------------------------------------------------------------------------ receiving referrals


def _serialise(db: Session) -> None:
    """Count and check one referral at a time (PostgreSQL), or a burst could all see room.
    On SQLite every writing transaction already holds the database's write lock."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SERIALISE_KEY})


def _recent(db: Session, scope: str, key: bytes, limit: int, window: timedelta) -> list[datetime]:
    return list(
        db.scalars(
            select(SignInFailure.at)
            .where(
                SignInFailure.scope == scope,
                SignInFailure.key_hash == key,
                SignInFailure.at > utcnow() - window,
            )
            .order_by(SignInFailure.at.desc())
            .limit(limit)
        )
    )


def address_key(settings: Settings, address: str) -> bytes:
    return protocol.token_hash(settings.secret_key.reveal(), "throttle-referral:" + address)


def _service_key(settings: Settings) -> bytes:
    return protocol.token_hash(settings.secret_key.reveal(), "throttle-referral:service")


def throttle(db: Session, settings: Settings, address: str) -> None:
    """Refuse (429) while this address, or the whole service, has sent its limit of referrals
    in the window; otherwise count this one."""
    window = timedelta(minutes=settings.signin_window_minutes)
    now = utcnow()
    limits = [
        (PER_ADDRESS, address_key(settings, address), settings.referrals_per_address),
        (PER_SERVICE, _service_key(settings), settings.referrals_per_window),
    ]
    for scope, key, limit in limits:
        wait = rules.retry_after(_recent(db, scope, key, limit, window), limit, window, now)
        if wait is not None:
            minutes = max(1, -(-wait // 60))
            raise Throttled(
                "Too many referrals have been sent in the last few minutes. Nothing was sent. "
                f"Please keep what you wrote and try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}.",
                retry_after=wait,
            )
    for scope, key, _ in limits:
        db.add(SignInFailure(scope=scope, key_hash=key, at=now))
    db.flush()


def receive(
    db: Session,
    settings: Settings,
    address: str,
    *,
    channel: Channel,
    source: Source,
    key_id: str,
    ciphertext: bytes,
) -> Referral:
    """Keep a sealed referral with what routes it; nothing else about the sender is kept."""
    if len(ciphertext) > MAX_SEALED:
        raise TooLarge(
            "That referral is too long to send. Please shorten it and try again.",
            field="ciphertext",
        )
    if len(ciphertext) not in SEALED_SIZES:
        raise BadInput("The referral was not sealed in the right form.", field="ciphertext")
    if (channel is Channel.SELF) != (source is Source.SELF):
        raise BadInput("Please choose who is making the referral.", field="source")
    _serialise(db)
    key = current_key(db)
    if key is None:
        raise Conflict("The service is not taking referrals online at the moment.")
    if key.id != key_id:
        raise Conflict(
            "The service's referral key has changed since this page was opened. Please copy "
            "what you wrote, reload the page and send it again."
        )
    throttle(db, settings, address)
    reference = _unused_reference(db)
    referral = Referral(
        reference=reference,
        channel=channel,
        source=source,
        key_id=key.id,
        ciphertext=ciphertext,
        received_at=utcnow(),
    )
    db.add(referral)
    db.flush()
    record(db, settings, AuditTag.REFERRAL_RECEIVED, subject_id=referral.id)
    return referral


def _unused_reference(db: Session) -> str:
    for _ in range(8):
        reference = rules.new_reference()
        if db.scalar(select(Referral.id).where(Referral.reference == reference)) is None:
            return reference
    raise Conflict("Please try again.")  # pragma: no cover  (40 random bits: never in practice)


def inbox_query(state: ReferralState | None = None) -> Select[Referral]:
    """Every referral (or those in ``state``), newest first (ix_referrals_received)."""
    query = select(Referral).order_by(Referral.received_at.desc(), Referral.id)
    return query if state is None else query.where(Referral.state == state)


def first_contact_made(db: Session, referral_ids: list[str]) -> set[str]:
    """Those of these referrals whose case has reached first contact: no longer overdue."""
    if not referral_ids:
        return set()
    return {
        referral_id
        for referral_id in db.scalars(
            select(Case.referral_id)
            .join(StageMove, StageMove.case_id == Case.id)
            .where(Case.referral_id.in_(referral_ids), StageMove.stage == CaseStage.FIRST_CONTACT)
        )
        if referral_id is not None
    }


# ------------------------------------------------------------------------ overdue first contact

# A referral's readers are told once that it passed the first-contact target, within this many
# working days after it did (the runner looks every hour; a referral long overdue is not news).
OVERDUE_TOLD_WITHIN = 3
# How far back the runner looks: well past the target and the days above.
OVERDUE_LOOK_BACK = timedelta(days=60)


def queue_overdue_notices(db: Session, settings: Settings, now: datetime) -> int:
    """Queue a notice for each reader of each referral that passed its first-contact target
    lately; each (reader, referral) once. How many were queued."""
    key = current_key(db)
    if key is None or settings.smtp is None:
        return 0
    zone = local_time.zone_named(settings.time_zone)
    today = now.astimezone(zone).date()
    target = settings.referral_first_contact_days
    lately = [
        referral_id
        for referral_id, received_at in db.execute(
            select(Referral.id, Referral.received_at).where(
                Referral.received_at >= now - OVERDUE_LOOK_BACK,
                Referral.state != ReferralState.DECLINED,
            )
        )
        if target
        < rules.working_days_between(received_at.astimezone(zone).date(), today)
        <= target + OVERDUE_TOLD_WITHIN
    ]
    # A case that reached first contact answered the target (as the inbox's overdue mark).
    contacted = first_contact_made(db, lately)
    lately = [referral_id for referral_id in lately if referral_id not in contacted]
    if not lately:
        return 0
    holders_of_key = db.scalars(
        select(Account)
        .join(ReferralKeyGrant, ReferralKeyGrant.account_id == Account.id)
        .where(ReferralKeyGrant.key_id == key.id)
    )
    # The rule of policy.may_read (which imports this module).
    readers = [
        account.id
        for account in holders_of_key
        if may_hold_the_key(db, account)
        and (account.role is Role.SERVICE_MANAGER or is_designated(db, account.id))
    ]
    return sum(
        notices.queue_once(db, settings, readers, NoticeEvent.REFERRAL_OVERDUE, referral_id)
        for referral_id in lately
    )
