"""Signed statements in request bodies: ``{statement, signature}`` as base64url, at the top
level or under a field name (a sealed form's answer merged into its fields)."""

from __future__ import annotations

from portal import protocol
from portal.errors import BadInput
from portal.trust.models import ServiceRoot
from portal.trust.statements import MAX_STATEMENT, SIGNATURE, SignedStatement
from portal.web import Fields


def signed_statement(fields: Fields) -> SignedStatement:
    return SignedStatement(
        statement=fields.binary("statement", max_length=MAX_STATEMENT),
        signature=fields.binary("signature", length=SIGNATURE),
    )


def optional_signed_statement(fields: Fields, name: str) -> SignedStatement | None:
    """``name: {statement, signature}``, or None when the field is absent (a browser made
    before trust anchors). Anything else is refused naming ``name``."""
    raw = fields.raw(name)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadInput(field=name)
    try:
        return signed_statement(Fields(raw))
    except BadInput as refused:
        raise BadInput(refused.message, field=name) from None


def signed_statement_json(
    statement: bytes, signature: bytes, signer_account_id: str
) -> dict[str, str]:
    """A stored statement as served: the browser verifies it with the signer's key from the
    trust chain (never a key the server names), so the signer goes by account id."""
    return {
        "statement": protocol.b64encode(statement),
        "signature": protocol.b64encode(signature),
        "signer_account_id": signer_account_id,
    }


def root_json(root: ServiceRoot | None) -> dict[str, str] | None:
    """The service root as browsers pin it, or None before there is one."""
    if root is None:
        return None
    return {
        "account_id": root.account_id,
        "signing_public_key": protocol.b64encode(root.signing_public_key),
    }
