"""Giving a message's current version again to one account, as a facilitator's browser does
(portal/messages/regrants.py regrant), for the race tests of what may be granted again."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal import wire
from portal.accounts.models import Account
from portal.cases.models import Case
from portal.messages import regrants
from portal.messages.models import Message
from portal.settings import Settings
from tests.rows import found

# Any bytes of a grant's size: the server cannot open a grant, only store it.
GRANT = bytes(range(256))[: wire.CONTENT_GRANT]


def regrant_current_version(
    db: Session,
    settings: Settings,
    *,
    case_id: str,
    facilitator_id: str,
    account_id: str,
    message_id: str,
) -> None:
    """``facilitator_id`` grants ``message_id``'s current version to ``account_id``'s key."""
    message = found(db, Message, message_id)
    to = found(db, Account, account_id)
    regrants.regrant(
        db,
        settings,
        found(db, Account, facilitator_id),
        found(db, Case, case_id),
        to.id,
        to.public_key,
        [regrants.RegrantIn(message.object_id, message.version, GRANT)],
    )
