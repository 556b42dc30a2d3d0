"""Signed statements as the server receives them, and the checks it can make on them.

The server verifies what it can (the signature under the signer's registered key, the kind,
that the fields name the right accounts, case and keys) so that garbage is refused with a 4xx.
No browser relies on these checks: each verifies every statement itself against keys it
pinned (docs/api-trust.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from portal import protocol
from portal.errors import BadInput, Conflict

SIGNATURE = 64
MAX_STATEMENT = 4096  # protocol.MAX_STATEMENT_BYTES


@dataclass(frozen=True)
class SignedStatement:
    """``statement`` is the canonical JSON bytes exactly as signed; ``signature`` 64 bytes."""

    statement: bytes
    signature: bytes


def protocol_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: how statements and invitation MACs write a time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_signed(
    kind: str, signing_public_key: bytes | None, signed: SignedStatement, *, field: str
) -> dict[str, object]:
    """The statement's fields, if ``signing_public_key`` signed it and it is of ``kind``."""
    if signing_public_key is None:
        raise Conflict(
            "Your browser has not registered your signing key yet. Please sign out, sign in "
            "again and try once more.",
            field=field,
        )
    try:
        return protocol.open_statement(signing_public_key, kind, signed.statement, signed.signature)
    except protocol.WrongContext:
        raise BadInput("That is not the right kind of signed statement.", field=field) from None
    except protocol.DecryptionFailed:
        raise BadInput(
            "The signature could not be checked against your registered key.", field=field
        ) from None
    except protocol.ProtocolError:
        raise BadInput("The signed statement is not in the right form.", field=field) from None


def key_text(key: bytes | None) -> str | None:
    """A key as statements write it (base64url), to compare with a statement's field."""
    return protocol.b64encode(key) if key is not None else None
