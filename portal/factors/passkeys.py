"""Passkeys (WebAuthn) with the ``webauthn`` library: the two ceremonies, each in two halves.

The challenge of each ceremony is kept server-side for the session that asked
(portal/factors/models.FactorCeremony) and used once. The relying party's id and origin come
from settings. A passkey's sign count must rise at each use when the authenticator keeps one
(the library refuses one that does not: a cloned authenticator).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import webauthn
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.accounts import steps
from portal.accounts.sessions import Current
from portal.errors import BadInput
from portal.factors import services
from portal.factors.models import CeremonyPurpose, FactorKind, SecondFactor
from portal.settings import Settings

RP_NAME = services.ISSUER


def _passkeys_of(db: Session, account_id: str) -> list[SecondFactor]:
    return [f for f in services.factors_of(db, account_id) if f.kind is FactorKind.PASSKEY]


def _descriptors(factors: list[SecondFactor]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=f.credential_id)
        for f in factors
        if f.credential_id is not None
    ]


def registration_options(db: Session, settings: Settings, current: Current) -> dict[str, Any]:
    """Options for navigator.credentials.create, as JSON; the challenge kept for this session."""
    account = current.account
    options = webauthn.generate_registration_options(
        rp_id=settings.passkey_rp_id,
        rp_name=RP_NAME,
        user_name=account.sign_in_name,
        # The account id, not the name: the name is shown, the id only ties the key to us.
        user_id=account.id.encode("ascii"),
        exclude_credentials=_descriptors(_passkeys_of(db, account.id)),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    services.keep_ceremony(db, current.session_id, CeremonyPurpose.PASSKEY_SETUP, options.challenge)
    loaded: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return loaded


def register(
    db: Session, settings: Settings, current: Current, credential: object, *, at: datetime
) -> SecondFactor:
    """Verify the browser's new credential against this session's challenge; keep the passkey."""
    challenge = services.take_ceremony(db, current.session_id, CeremonyPurpose.PASSKEY_SETUP)
    try:
        verified = webauthn.verify_registration_response(
            credential=_credential_json(credential),
            expected_challenge=challenge,
            expected_rp_id=settings.passkey_rp_id,
            expected_origin=settings.passkey_origin,
        )
    except WebAuthnException:
        raise BadInput("That passkey could not be added. Please try again.") from None
    taken = db.scalars(
        select(SecondFactor.id).where(SecondFactor.credential_id == verified.credential_id)
    ).first()
    if taken is not None:
        raise BadInput("That passkey is already added.")
    factor = SecondFactor(
        account_id=current.account.id,
        kind=FactorKind.PASSKEY,
        credential_id=verified.credential_id,
        credential_public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        last_used_at=at,
    )
    return services.added(db, settings, current, factor)


def authentication_options(db: Session, settings: Settings, current: Current) -> dict[str, Any]:
    """Options for navigator.credentials.get, naming this account's passkeys."""
    if current.second_factor_due != steps.VERIFY:
        raise BadInput("There is nothing to confirm in this session.")
    passkeys = _passkeys_of(db, current.account.id)
    if not passkeys:
        raise BadInput("This account has no passkey. Use a code instead.")
    options = webauthn.generate_authentication_options(
        rp_id=settings.passkey_rp_id,
        allow_credentials=_descriptors(passkeys),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    services.keep_ceremony(
        db, current.session_id, CeremonyPurpose.PASSKEY_SIGN_IN, options.challenge
    )
    loaded: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return loaded


def pass_with_passkey(
    db: Session,
    settings: Settings,
    current: Current,
    credential: object,
    address: str,
    *,
    at: datetime,
) -> None:
    """Clear the session's owed step with one of the account's passkeys."""
    if current.second_factor_due != steps.VERIFY:
        raise BadInput("There is nothing to confirm in this session.")
    attempt = services.begin_attempt(db, settings, current, address)
    challenge = services.take_ceremony(db, current.session_id, CeremonyPurpose.PASSKEY_SIGN_IN)
    raw_id = credential.get("rawId") if isinstance(credential, dict) else None
    factor = None
    if isinstance(raw_id, str):
        try:
            credential_id = webauthn.base64url_to_bytes(raw_id)
        except ValueError:
            credential_id = b""
        factor = db.scalars(
            select(SecondFactor)
            .where(
                SecondFactor.account_id == current.account.id,
                SecondFactor.credential_id == credential_id,
            )
            .with_for_update()
        ).first()
    if factor is None or factor.credential_public_key is None:
        raise services.failed(db, settings, current, attempt)
    try:
        verified = webauthn.verify_authentication_response(
            credential=_credential_json(credential),
            expected_challenge=challenge,
            expected_rp_id=settings.passkey_rp_id,
            expected_origin=settings.passkey_origin,
            credential_public_key=factor.credential_public_key,
            credential_current_sign_count=factor.sign_count or 0,
        )
    except WebAuthnException:
        raise services.failed(db, settings, current, attempt) from None
    factor.sign_count = verified.new_sign_count
    factor.last_used_at = at
    services.succeeded(db, settings, current, attempt, factor.id)


def _credential_json(credential: object) -> str:
    if not isinstance(credential, dict):
        raise BadInput("The passkey's answer could not be read.")
    return json.dumps(credential)


def credential_id_text(factor: SecondFactor) -> str:
    return bytes_to_base64url(factor.credential_id or b"")
