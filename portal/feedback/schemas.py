"""The feedback form's body, parsed into typed values (or a 4xx naming the field)."""

from __future__ import annotations

from dataclasses import dataclass

from portal import protocol
from portal.errors import BadInput, TooLarge
from portal.feedback.models import Reply
from portal.referrals.services import MAX_SEALED
from portal.web import Fields

REPLIES = {reply.value: reply for reply in Reply}
NOT_SEALED = "Your words were not locked in the right form. Please reload the page and try again."


@dataclass(frozen=True)
class Answers:
    satisfied: Reply | None
    recommend: Reply | None
    better_able: Reply | None
    key_id: str | None  # the referral key the free text is sealed to; None: no free text
    sealed_text: bytes | None


def _reply(fields: Fields, name: str) -> Reply | None:
    if fields.raw(name) in (None, ""):
        return None  # every question may be left out
    return fields.choice(name, REPLIES)  # type: ignore[no-any-return]  # a value of REPLIES


def answers(fields: Fields) -> Answers:
    key_id = fields.optional_uuid4("key_id")
    raw = fields.raw("ciphertext")
    if (key_id is None) != (raw is None):
        raise BadInput(NOT_SEALED, field="ciphertext")
    sealed: bytes | None = None
    if raw is not None:
        if not isinstance(raw, str) or len(raw) > (MAX_SEALED * 4 + 2) // 3:
            raise TooLarge("What you wrote is too long. Please shorten it.", field="ciphertext")
        try:
            sealed = protocol.b64decode(raw)
        except protocol.ProtocolError:
            raise BadInput(NOT_SEALED, field="ciphertext") from None
    return Answers(
        satisfied=_reply(fields, "satisfied"),
        recommend=_reply(fields, "recommend"),
        better_able=_reply(fields, "better_able"),
        key_id=key_id,
        sealed_text=sealed,
    )
