"""What a browser does, done in Python with ``portal.protocol`` against the services directly.

For ``portal demo`` and the browser tests' backstage: accounts that must exist, made with the
same keys, bundles, signatures and MACs a browser would send (docs/api-trust.md), but without
HTTP round trips. Every check on the server side is the real one: these functions call the
services the endpoints call. Nothing here runs in a request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import services as accounts
from portal.accounts.models import Account, Role
from portal.cases.models import Case, Participant
from portal.db import required, utcnow
from portal.invitations import services as invitations
from portal.invitations.models import Invitation
from portal.settings import Settings
from portal.trust import services as trust
from portal.trust.statements import SignedStatement, protocol_time

b64 = protocol.b64encode


@dataclass
class BrowserPerson:
    """An account and what only its browser (and its person) know."""

    account: Account
    password: str = field(repr=False)
    secret_key: bytes = field(repr=False)
    recovery_key: bytes = field(repr=False)

    @property
    def public_key(self) -> bytes:
        return self.account.public_key

    @property
    def signing_secret(self) -> bytes:
        return protocol.signing_keys_from_secret(self.secret_key)[0]

    @property
    def signing_public_key(self) -> bytes:
        return protocol.signing_public_key_from_secret(self.secret_key)

    @property
    def recovery_code(self) -> str:
        return protocol.encode_recovery_code(self.recovery_key)


def new_password() -> str:
    # Printed once by the demo; strong enough even on a reachable machine.
    return secrets.token_urlsafe(15)


def account_keys(
    invitation: Invitation, password: str
) -> tuple[accounts.NewAccountKeys, bytes, bytes]:
    """The keys a joining browser makes: (what it sends, its secret key, its recovery key)."""
    derived = protocol.derive_account_keys(
        password, invitation.kdf_salt, invitation.kdf_ops, invitation.kdf_mem
    )
    secret_key, public_key = protocol.generate_identity()
    recovery = protocol.generate_recovery_key()
    keys = accounts.NewAccountKeys(
        public_key=public_key,
        auth_key=derived.auth_key,
        bundle=protocol.wrap_secret_key(derived.wrap_key, invitation.account_id, secret_key),
        recovery_auth=protocol.recovery_auth_key(recovery),
        recovery_bundle=protocol.wrap_with_recovery(recovery, invitation.account_id, secret_key),
        signing_public_key=protocol.signing_public_key_from_secret(secret_key),
    )
    return keys, secret_key, recovery


def staff_cert(
    issuer_account_id: str, signing_secret: bytes, subject: Account, issued_at: str | None = None
) -> SignedStatement:
    """A ``staff-cert`` for ``subject`` (its role and both registered keys)."""
    statement, signature = protocol.sign_staff_cert(
        signing_secret,
        {
            "account_id": subject.id,
            "role": subject.role.value,
            "box_public_key": b64(subject.public_key),
            "signing_public_key": b64(
                required(subject.signing_public_key, "a certified account has a signing key")
            ),
            "issued_at": issued_at or protocol_time(utcnow()),
            "issuer_account_id": issuer_account_id,
        },
    )
    return SignedStatement(statement, signature)


def case_key_statement(
    facilitator_id: str, signing_secret: bytes, case_id: str, case_public_key: bytes, epoch: int = 1
) -> SignedStatement:
    """The ``case-key`` statement a facilitator's browser sends when it opens a case."""
    statement, signature = protocol.sign_case_key_epoch(
        signing_secret,
        {
            "case_id": case_id,
            "epoch": epoch,
            "case_public_key": b64(case_public_key),
            "issued_at": protocol_time(utcnow()),
            "issuer_account_id": facilitator_id,
        },
    )
    return SignedStatement(statement, signature)


def join_setup(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    code: str,
    name: str,
    password: str | None = None,
) -> BrowserPerson:
    """The setup page: a service manager, who becomes the service root with their own
    certificate if the service has none yet."""
    password = password or new_password()
    invitation = invitations.usable_invitation(db, settings, code)
    keys, secret_key, recovery = account_keys(invitation, password)
    cert = None
    if trust.service_root(db) is None:
        signing_secret = protocol.signing_keys_from_secret(secret_key)[0]
        statement, signature = protocol.sign_staff_cert(
            signing_secret,
            {
                "account_id": invitation.account_id,
                "role": Role.SERVICE_MANAGER.value,
                "box_public_key": b64(keys.public_key),
                "signing_public_key": b64(required(keys.signing_public_key, "made above")),
                "issued_at": protocol_time(utcnow()),
                "issuer_account_id": invitation.account_id,
            },
        )
        cert = SignedStatement(statement, signature)
    account = invitations.complete_join(
        db, settings, accounts.hash_new_keys(hasher, keys), code, name, keys, staff_cert=cert
    )
    return BrowserPerson(account, password, secret_key, recovery)


def invite(
    db: Session,
    settings: Settings,
    inviter: BrowserPerson,
    role: Role,
    participant: tuple[Case, Participant] | None = None,
) -> str:
    """The inviter's browser: reserve, make the code and its MAC, seal; the code's text."""
    invitation = invitations.prepare_invitation(
        db, settings, inviter.account, role, participant=participant
    )
    code, code_text = protocol.generate_invitation_code()
    found = protocol.invitation_secrets(code)
    root = required(trust.service_root(db), "prepare_invitation needs a root")
    mac = protocol.invitation_mac(
        found.mac_key,
        {
            "invitation_id": invitation.id,
            "account_id": invitation.account_id,
            "role": role.value,
            "case_id": participant[0].id if participant else None,
            "participant_id": participant[1].id if participant else None,
            "inviter_account_id": inviter.account.id,
            "inviter_box_public_key": b64(inviter.public_key),
            "inviter_signing_public_key": b64(inviter.signing_public_key),
            "root_account_id": root.account_id,
            "root_signing_public_key": b64(root.signing_public_key),
            "expires_at": protocol_time(invitation.expires_at),
        },
    )
    invitations.seal_invitation(
        db,
        settings,
        inviter.account,
        invitation.id,
        lookup_id=found.lookup_id,
        redeem_proof_hash=protocol.invitation_redeem_hash(found.redeem_proof),
        mac=mac,
    )
    return code_text


def join_invited(
    db: Session,
    settings: Settings,
    hasher: PasswordHasher,
    code_text: str,
    name: str,
    password: str | None = None,
) -> BrowserPerson:
    """The joiner's browser: find the invitation by its lookup id, check its MAC before
    anything else is sent, then redeem it with the redeem proof."""
    password = password or new_password()
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code_text))
    invitation = invitations.usable_invitation(
        db, settings, invitations.ByLookupId(found.lookup_id)
    )
    served = invitations.served_fields(db, invitation)
    protocol.check_invitation_mac(found.mac_key, served.fields, served.mac)
    keys, secret_key, recovery = account_keys(invitation, password)
    account = invitations.complete_join(
        db,
        settings,
        accounts.hash_new_keys(hasher, keys),
        invitations.ByRedeemProof(found.redeem_proof, found.lookup_id),
        name,
        keys,
    )
    return BrowserPerson(account, password, secret_key, recovery)


def certify(db: Session, settings: Settings, manager: BrowserPerson, subject: Account) -> None:
    """The Certify page's sealer and POST /api/trust/certificates."""
    trust.certify(
        db,
        settings,
        manager.account,
        staff_cert(manager.account.id, manager.signing_secret, subject),
    )
