"""Trust rules: the service root, certifying staff and revoking them, all through the one
append-only trust log. Never commits.

Appending is serialised: on PostgreSQL every writer of the log first takes a transaction-scoped
advisory lock (as the audit log does), then reads the last position and writes the next one,
so two certifications at once get positions n and n+1, never the same one twice. SQLite has one
writer at a time anyway. The checks that decide (already certified? is the signer certified?)
happen after the lock is taken, so they see every entry committed before.

The server checks every statement it can (docs/api-trust.md) and refuses garbage with a 4xx;
no browser relies on these checks.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, select, text
from sqlalchemy.orm import Session

from portal.accounts import services as accounts
from portal.accounts.models import Account, Role
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.db import lock_row, required, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.settings import Settings
from portal.trust.models import EntryKind, ServiceRoot, TrustLogEntry
from portal.trust.statements import SignedStatement, key_text, open_signed

# pg_advisory_xact_lock keys: the audit chain uses 727001.
TRUST_LOG_LOCK = 727002


# -------------------------------------------------------------------------------- reading


def service_root(db: Session) -> ServiceRoot | None:
    return db.get(ServiceRoot, 1)


def log_entries(db: Session) -> list[TrustLogEntry]:
    """The whole log, in order (a few entries per staff member)."""
    return list(db.scalars(select(TrustLogEntry).order_by(TrustLogEntry.position)))


def _has_entry(db: Session, account_id: str, kind: EntryKind) -> bool:
    return bool(
        db.scalar(
            select(
                exists().where(
                    TrustLogEntry.subject_account_id == account_id, TrustLogEntry.kind == kind
                )
            )
        )
    )


def subjects_of(kind: EntryKind) -> Select[str]:
    """The accounts the log has an entry of ``kind`` about, as a subquery."""
    return select(TrustLogEntry.subject_account_id).where(TrustLogEntry.kind == kind)


def is_certified(db: Session, account_id: str) -> bool:
    """The log holds a certificate for the account (revoked or not)."""
    return _has_entry(db, account_id, EntryKind.STAFF_CERT)


def is_revoked(db: Session, account_id: str) -> bool:
    return _has_entry(db, account_id, EntryKind.REVOCATION)


def may_sign_for_the_service(db: Session, account: Account) -> bool:
    """A service manager whose signatures count in the chain: the root, or certified in the
    log and not revoked (what a browser walking the log would accept)."""
    if account.role is not Role.SERVICE_MANAGER or account.disabled_at is not None:
        return False
    root = service_root(db)
    if root is not None and root.account_id == account.id:
        return True
    return is_certified(db, account.id) and not is_revoked(db, account.id)


def certified_ids(db: Session, account_ids: list[str]) -> set[str]:
    """Which of these accounts have a certificate in the log."""
    if not account_ids:
        return set()
    return set(
        db.scalars(
            subjects_of(EntryKind.STAFF_CERT).where(
                TrustLogEntry.subject_account_id.in_(account_ids)
            )
        )
    )


def awaiting_certification(db: Session) -> list[Account]:
    """Open staff accounts that have registered a signing key and have no certificate yet,
    the longest-waiting first."""
    return list(
        db.scalars(
            select(Account)
            .where(
                Account.role.in_([Role.SERVICE_MANAGER, Role.FACILITATOR]),
                Account.disabled_at.is_(None),
                Account.signing_public_key.is_not(None),
                Account.id.not_in(subjects_of(EntryKind.STAFF_CERT)),
            )
            .order_by(Account.created_at)
        )
    )


def root_candidates(db: Session, root: ServiceRoot) -> list[Account]:
    """Whom the root may hand over to: open service managers, other than the root, with a
    certificate in the log that is not revoked (so every browser walking the log already
    trusts their signing key), the longest-serving first."""
    return list(
        db.scalars(
            select(Account)
            .where(
                Account.role == Role.SERVICE_MANAGER,
                Account.disabled_at.is_(None),
                Account.id != root.account_id,
                Account.id.in_(subjects_of(EntryKind.STAFF_CERT)),
                Account.id.not_in(subjects_of(EntryKind.REVOCATION)),
            )
            .order_by(Account.created_at, Account.id)
        )
    )


def first_service_manager(db: Session) -> Account | None:
    """The longest-serving open service manager: on a service that had accounts before trust
    anchors, the only one who may certify themself as the root."""
    return db.scalars(
        select(Account)
        .where(Account.role == Role.SERVICE_MANAGER, Account.disabled_at.is_(None))
        .order_by(Account.created_at, Account.id)
        .limit(1)
    ).first()


# -------------------------------------------------------------------------------- appending


def lock_log(db: Session) -> None:
    """Hold the log for the rest of this transaction (PostgreSQL; SQLite has one writer)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TRUST_LOG_LOCK})


def _append(
    db: Session,
    *,
    kind: EntryKind,
    signer: Account,
    signed: SignedStatement,
    subject_id: str,
) -> TrustLogEntry:
    """The next entry, after its statement was checked. The caller holds ``lock_log``."""
    signer_key = required(signer.signing_public_key, "the signer's key open_signed checked")
    last = db.scalar(select(TrustLogEntry.position).order_by(TrustLogEntry.position.desc()))
    entry = TrustLogEntry(
        position=0 if last is None else last + 1,
        kind=kind,
        signer_account_id=signer.id,
        signer_signing_public_key=signer_key,
        statement=signed.statement,
        signature=signed.signature,
        subject_account_id=subject_id,
        created_at=utcnow(),
    )
    db.add(entry)
    db.flush()
    return entry


def _require_own_certificate_fields(
    fields: dict[str, object], account: Account, *, field: str
) -> None:
    """A staff-cert must name this account, its role and both of its registered keys."""
    if (
        fields["account_id"] != account.id
        or fields["role"] != account.role.value
        or fields["box_public_key"] != key_text(account.public_key)
        or fields["signing_public_key"] != key_text(account.signing_public_key)
    ):
        raise BadInput("The certificate does not name this account's role and keys.", field=field)


def check_own_certificate(account: Account, signed: SignedStatement, *, field: str) -> None:
    """A service manager's certificate of themself: signed with their registered key, naming
    their role and keys, and themself as issuer."""
    if account.role is not Role.SERVICE_MANAGER:
        raise Conflict("Only a service manager can be the service's root.", field=field)
    fields = open_signed("staff-cert", account.signing_public_key, signed, field=field)
    _require_own_certificate_fields(fields, account, field=field)
    if fields["issuer_account_id"] != account.id:
        raise BadInput("The root's certificate must be signed by the root itself.", field=field)


def establish_root(
    db: Session, settings: Settings, account: Account, signed: SignedStatement, *, field: str
) -> TrustLogEntry:
    """The first service manager's own certificate, signed by itself, becomes log entry 0 and
    the account the service root. Refused once there is a root (Conflict)."""
    check_own_certificate(account, signed, field=field)
    lock_log(db)
    if service_root(db) is not None or db.get(TrustLogEntry, 0) is not None:
        raise Conflict("This service already has its root.", field=field)
    entry = _append(
        db, kind=EntryKind.STAFF_CERT, signer=account, signed=signed, subject_id=account.id
    )
    db.add(
        ServiceRoot(
            id=1,
            account_id=account.id,
            signing_public_key=entry.signer_signing_public_key,
            log_position=entry.position,
            since=entry.created_at,
        )
    )
    db.flush()
    record(
        db, settings, AuditTag.TRUST_ROOT_ESTABLISHED, actor_id=account.id, subject_id=account.id
    )
    return entry


def certify(
    db: Session, settings: Settings, manager: Account, signed: SignedStatement
) -> TrustLogEntry:
    """A service manager's ``staff-cert`` for a staff account, appended to the log.

    Checked: the signature under the manager's registered signing key; the manager is the root
    or certified and not revoked; the statement names the manager as issuer and the subject's
    own role and registered keys; the subject is open staff without a certificate yet. On a
    service without a root (accounts made before trust anchors), the longest-serving service
    manager's own certificate makes them the root.
    """
    field = "statement"
    fields = open_signed("staff-cert", manager.signing_public_key, signed, field=field)
    if fields["issuer_account_id"] != manager.id:
        raise BadInput("The certificate must name you as its issuer.", field=field)
    subject_id = str(fields["account_id"])
    lock_log(db)
    if service_root(db) is None:
        first = first_service_manager(db)
        if subject_id == manager.id and first is not None and first.id == manager.id:
            return establish_root(db, settings, manager, signed, field=field)
        raise Conflict(
            "The service has no root yet: its first service manager must certify themself first."
        )
    if not may_sign_for_the_service(db, manager):
        raise Conflict(
            "Your own account has not been certified yet, so your certificates would not be "
            "trusted. Ask a certified service manager to certify you first."
        )
    subject = db.get(Account, subject_id)
    if subject is None or not subject.role.is_staff:
        raise NotFound("There is no staff account with that id.")
    lock_row(db, subject)
    if subject.disabled_at is not None:
        raise Conflict("This account is closed, so it cannot be certified.")
    if subject.signing_public_key is None:
        raise Conflict("This account has not registered its signing key yet.")
    _require_own_certificate_fields(fields, subject, field=field)
    if is_certified(db, subject.id):
        raise Conflict("This account is already certified.")
    entry = _append(
        db, kind=EntryKind.STAFF_CERT, signer=manager, signed=signed, subject_id=subject.id
    )
    record(db, settings, AuditTag.TRUST_STAFF_CERTIFIED, actor_id=manager.id, subject_id=subject.id)
    return entry


def revoke(
    db: Session,
    settings: Settings,
    manager: Account,
    account: Account,
    signed: SignedStatement,
) -> TrustLogEntry:
    """A service manager's ``revocation`` of a certified staff account, appended to the log.
    The caller holds ``lock_log`` and the account's row."""
    field = "revocation"
    fields = open_signed("revocation", manager.signing_public_key, signed, field=field)
    if fields["account_id"] != account.id or fields["issuer_account_id"] != manager.id:
        raise BadInput("The revocation must name this account, and you as its issuer.", field=field)
    if not may_sign_for_the_service(db, manager):
        raise Conflict(
            "Your own account has not been certified yet, so your revocation would not be "
            "trusted. Close the account without one, and ask a certified service manager.",
            field=field,
        )
    root = service_root(db)
    if root is not None and root.account_id == account.id:
        raise Conflict(
            "The service root cannot be revoked: the root must be handed over first.", field=field
        )
    if not is_certified(db, account.id):
        raise Conflict(
            "This account was never certified, so there is nothing to revoke. Close it "
            "without a revocation.",
            field=field,
        )
    if is_revoked(db, account.id):
        raise Conflict("This account's certificate is already revoked.", field=field)
    entry = _append(
        db, kind=EntryKind.REVOCATION, signer=manager, signed=signed, subject_id=account.id
    )
    record(db, settings, AuditTag.TRUST_STAFF_REVOKED, actor_id=manager.id, subject_id=account.id)
    return entry


def hand_over_root(
    db: Session, settings: Settings, root_account: Account, signed: SignedStatement
) -> TrustLogEntry:
    """The root's ``root-handover`` to a certified service manager, appended to the log; the
    service root row follows in the same transaction (every browser walking the log then finds
    the new root where the server says it is).

    Checked: the signature under the signer's registered key; the signer is the root now, with
    the root's key, and names itself as issuer; the new root is an open service manager, not
    the root, certified and not revoked, and the statement names their registered signing key.
    """
    field = "statement"
    fields = open_signed("root-handover", root_account.signing_public_key, signed, field=field)
    if fields["issuer_account_id"] != root_account.id:
        raise BadInput("The hand-over must name you as its issuer.", field=field)
    lock_log(db)
    root = service_root(db)
    if root is None:
        raise Conflict("This service has no root yet, so there is nothing to hand over.")
    lock_row(db, root)
    if (
        root.account_id != root_account.id
        or root.signing_public_key != root_account.signing_public_key
    ):
        raise Conflict("Only the service's root can hand it over.", field=field)
    new_root_id = str(fields["new_root_account_id"])
    if new_root_id == root_account.id:
        raise BadInput("Choose another service manager to hand the root to.", field=field)
    new_root = db.get(Account, new_root_id)
    if new_root is None or new_root.role is not Role.SERVICE_MANAGER:
        raise NotFound("There is no service manager with that id.")
    lock_row(db, new_root)
    if new_root.disabled_at is not None:
        raise Conflict("This account is closed, so it cannot become the root.", field=field)
    if not is_certified(db, new_root.id) or is_revoked(db, new_root.id):
        raise Conflict(
            "Only a certified service manager can become the root: certify them first.",
            field=field,
        )
    if fields["new_root_signing_public_key"] != key_text(new_root.signing_public_key):
        raise BadInput("The hand-over does not name this account's signing key.", field=field)
    entry = _append(
        db, kind=EntryKind.ROOT_HANDOVER, signer=root_account, signed=signed, subject_id=new_root.id
    )
    root.account_id = new_root.id
    root.signing_public_key = required(new_root.signing_public_key, "certified above")
    root.log_position = entry.position
    root.since = entry.created_at
    db.flush()
    record(
        db,
        settings,
        AuditTag.TRUST_ROOT_HANDED_OVER,
        actor_id=root_account.id,
        subject_id=new_root.id,
    )
    return entry


def close_staff_account(
    db: Session,
    settings: Settings,
    manager: Account,
    account_id: str,
    revocation: SignedStatement | None,
) -> Account:
    """Close a staff account (signed out everywhere, refused at sign-in) and, with a
    ``revocation`` from the manager's browser, append it to the log in the same transaction.

    Without one it still closes the account: shutting someone out must never wait for a
    browser's keys. Calling it again on a closed account with a revocation adds the revocation
    then. A refused revocation keeps nothing, the closing included.
    """
    if revocation is not None:
        lock_log(db)  # before the account's row: the order every writer of the log takes
    account = accounts.disable_account(db, settings, manager, account_id)
    if revocation is not None:
        revoke(db, settings, manager, account, revocation)
    return account
