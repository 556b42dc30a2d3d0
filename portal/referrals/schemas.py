"""Request bodies for referrals, parsed into typed values (or a 4xx naming the field)."""

from __future__ import annotations

from dataclasses import dataclass

from portal import protocol
from portal.errors import BadInput, TooLarge
from portal.referrals import services
from portal.referrals.models import AGENCY_SOURCES, Channel, Source
from portal.referrals.states import DeclineReason
from portal.trust import schemas as trust_schemas
from portal.trust.statements import SignedStatement
from portal.web import Fields

KEY = 32
CHANNELS = {channel.value: channel for channel in Channel}
AGENCY_SOURCE_CHOICES = {source.value: source for source in AGENCY_SOURCES}


@dataclass(frozen=True)
class NewKey:
    key_id: str
    public_key: bytes
    signed: SignedStatement
    grant: bytes


def new_key(fields: Fields) -> NewKey:
    return NewKey(
        key_id=fields.uuid4("key_id"),
        public_key=fields.binary("referral_public_key", length=KEY),
        signed=trust_schemas.signed_statement(fields),
        grant=fields.binary("grant", length=services.GRANT_BYTES),
    )


@dataclass(frozen=True)
class Access:
    account_id: str
    grant: bytes


def access(fields: Fields) -> Access:
    return Access(
        account_id=fields.uuid4("account_id"),
        grant=fields.binary("grant", length=services.GRANT_BYTES),
    )


@dataclass(frozen=True)
class Submission:
    channel: Channel
    source: Source
    key_id: str
    ciphertext: bytes


def submission(fields: Fields) -> Submission:
    channel = fields.choice("channel", CHANNELS)
    source = (
        Source.SELF if channel is Channel.SELF else fields.choice("source", AGENCY_SOURCE_CHOICES)
    )
    raw = fields.raw("ciphertext")
    if not isinstance(raw, str) or not raw:
        raise BadInput("The referral was not sealed in the right form.", field="ciphertext")
    # Base64url is 4/3 of the bytes: anything longer than the largest sealed size is refused as
    # too long before it is decoded.
    if len(raw) > (services.MAX_SEALED * 4 + 2) // 3:
        raise TooLarge(
            "That referral is too long to send. Please shorten it and try again.",
            field="ciphertext",
        )
    try:
        ciphertext = protocol.b64decode(raw)
    except protocol.ProtocolError:
        raise BadInput(
            "The referral was not sealed in the right form.", field="ciphertext"
        ) from None
    return Submission(
        channel=channel, source=source, key_id=fields.uuid4("key_id"), ciphertext=ciphertext
    )


# ------------------------------------------------------------------------------------ triage

DECLINE_REASONS = {reason.value: reason for reason in DeclineReason}


def optional_note(fields: Fields) -> bytes | None:
    """A note sealed to the referral key in the browser (``note``), or None when none was
    written (the page's sealer leaves it out)."""
    if fields.raw("note") in (None, ""):
        return None
    return fields.binary("note", max_length=services.MAX_SEALED)


@dataclass(frozen=True)
class Acceptance:
    facilitator_id: str
    share: bytes


def acceptance(fields: Fields) -> Acceptance:
    if fields.raw("facilitator_id") in (None, ""):
        raise BadInput("Choose the facilitator who will hold the case.", field="facilitator_id")
    return Acceptance(
        facilitator_id=fields.uuid4("facilitator_id"),
        share=fields.binary("share", max_length=max(protocol.referral_share_sizes())),
    )


def decline_reason(fields: Fields) -> DeclineReason:
    if fields.raw("reason") in (None, ""):
        raise BadInput("Choose why the referral is declined.", field="reason")
    reason: DeclineReason = fields.choice("reason", DECLINE_REASONS)
    return reason
