"""Rows for unit tests of services: small functions that insert through the models on a session
(the rolled-back ``db_session`` fixture) and flush, so each returns a row with its id.

Unlike ``tests/factories.py`` (people using the HTTP API with real crypto), these skip the
browser entirely: keys, bundles, manifests and grants are random bytes of the right size. Use
them to test what a service does with rows, not the protocol.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from portal import protocol, wire
from portal.accounts.models import Account, KnownBrowser, Role, SignInFailure, SignInSession
from portal.cases.models import Case, CaseCondition, CaseFacilitator, Format, Participant, Side
from portal.content import quota
from portal.content.models import (
    ContentChunk,
    ContentGrant,
    ContentKind,
    ContentObject,
    ContentVersion,
    GrantPurpose,
)
from portal.db import new_id, utcnow
from portal.invitations.models import Invitation, InvitationPurpose
from portal.messages.models import Message, MessageEvent
from portal.messages.states import MessageState

_numbers = itertools.count(1)


T = TypeVar("T")


def _flushed(db: Session, row: T) -> T:
    db.add(row)
    db.flush()
    return row


def found(db: Session, kind: type[T], row_id: str) -> T:
    """The row of ``kind`` with ``row_id``, which the test made (a missing one fails it)."""
    row = db.get(kind, row_id)
    assert row is not None, f"no {kind.__name__} {row_id}"
    return row


def account(db: Session, role: Role = Role.PARTICIPANT, *, name: str | None = None) -> Account:
    number = next(_numbers)
    return _flushed(
        db,
        Account(
            role=role,
            sign_in_name=name or f"{role.value} {number}",
            kdf_salt=secrets.token_bytes(wire.SALT),
            kdf_ops=1,
            kdf_mem=8 * 1024 * 1024,
            auth_hash="not a real hash",
            recovery_auth_hash="not a real hash",
            public_key=secrets.token_bytes(wire.KEY),
            key_bundle=secrets.token_bytes(wire.KEY_BUNDLE),
            recovery_bundle=secrets.token_bytes(wire.KEY_BUNDLE),
        ),
    )


def case(
    db: Session,
    facilitator: Account | None = None,
    *,
    status: CaseCondition = CaseCondition.OPEN,
) -> Case:
    """A case facilitated by ``facilitator`` (a new facilitator account if none is given)."""
    facilitator = facilitator or account(db, Role.FACILITATOR)
    opened = _flushed(
        db,
        Case(
            reference=f"CASE-{next(_numbers)}",
            label="A case",
            status=status,
            public_key=secrets.token_bytes(wire.KEY),
            created_by_id=facilitator.id,
        ),
    )
    _flushed(db, CaseFacilitator(case_id=opened.id, account_id=facilitator.id))
    db.refresh(opened)
    return opened


def facilitator_of(in_case: Case) -> Account:
    return in_case.facilitators[0].account


def participant(
    db: Session,
    in_case: Case,
    side: Side = Side.PERSON_RESPONSIBLE,
    *,
    joined: bool = True,
    formats: Iterable[Format] = (Format.LETTER,),
    withdrawn: bool = False,
) -> Participant:
    """A participant who (by default) joined and consented to letters."""
    accepted = sorted(f.value for f in formats)
    now = utcnow()
    return _flushed(
        db,
        Participant(
            case_id=in_case.id,
            side=side,
            display_name=secrets.token_bytes(64),
            account_id=account(db).id if joined else None,
            formats=",".join(accepted),
            consent_recorded_at=now if accepted else None,
            joined_at=now if joined else None,
            withdrawn_at=now if withdrawn else None,
        ),
    )


def content_object(
    db: Session, in_case: Case, author: Account, kind: ContentKind = ContentKind.LETTER
) -> ContentObject:
    return _flushed(db, ContentObject(case_id=in_case.id, kind=kind, author_id=author.id))


def content_version(
    db: Session,
    obj: ContentObject,
    version: int = 1,
    *,
    sender: Account | None = None,
    grants: Iterable[GrantPurpose] = (GrantPurpose.CASE,),
) -> ContentVersion:
    """One stored version: a manifest, one inline chunk, and a grant for each purpose."""
    manifest = secrets.token_bytes(200)
    chunk = secrets.token_bytes(300)
    row = _flushed(
        db,
        ContentVersion(
            object_id=obj.id,
            version=version,
            manifest=manifest,
            manifest_hash=protocol.manifest_hash(manifest),
            ciphertext_size=len(chunk),
        ),
    )
    _flushed(
        db,
        ContentChunk(
            object_id=obj.id,
            version=version,
            part=0,
            index=0,
            final=True,
            data=chunk,
            size=len(chunk),
            hash=protocol.chunk_hash(chunk),
        ),
    )
    # The case's running total, as content.store_version keeps it.
    quota.count_stored(db, obj.case_id, len(chunk))
    for purpose in grants:
        grant(db, obj, version, purpose, sender_id=sender.id if sender else obj.author_id)
    return row


def grant(
    db: Session,
    obj: ContentObject,
    version: int,
    purpose: GrantPurpose,
    *,
    sender_id: str,
    recipient: Account | None = None,
) -> ContentGrant:
    return _flushed(
        db,
        ContentGrant(
            object_id=obj.id,
            version=version,
            purpose=purpose,
            sender_id=sender_id,
            recipient_account_id=recipient.id if recipient else None,
            grant=secrets.token_bytes(wire.CONTENT_GRANT),
        ),
    )


def message(
    db: Session,
    author: Participant,
    recipient: Participant,
    state: MessageState = MessageState.SUBMITTED,
    *,
    claimed_by: Account | None = None,
) -> Message:
    """A letter from ``author`` to ``recipient`` in ``state``, with its stored version 1 (and
    the recipient's grant once it was approved)."""
    author_account = author.account
    if author_account is None:
        raise ValueError("the author of a message has joined")
    obj = content_object(db, author.case, author_account)
    content_version(db, obj, grants=(GrantPurpose.CASE, GrantPurpose.AUTHOR))
    if state in {MessageState.AWAITING_RECIPIENT, MessageState.HELD, MessageState.OPENED}:
        grant(
            db,
            obj,
            1,
            GrantPurpose.RECIPIENT,
            sender_id=facilitator_of(author.case).id,
            recipient=recipient.account,
        )
    row = _flushed(
        db,
        Message(
            case_id=author.case_id,
            author_participant_id=author.id,
            recipient_participant_id=recipient.id,
            format=Format.LETTER,
            state=state,
            object_id=obj.id,
            version=1,
            claimed_by_id=claimed_by.id if claimed_by else None,
        ),
    )
    _flushed(db, MessageEvent(message_id=row.id, state=state, version=1, at=utcnow()))
    return row


def sign_in_failure(db: Session, at: datetime, *, scope: str = "account") -> SignInFailure:
    return _flushed(db, SignInFailure(scope=scope, key_hash=secrets.token_bytes(32), at=at))


def sign_in_session(
    db: Session,
    owner: Account,
    *,
    started: datetime | None = None,
    ended_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> SignInSession:
    started = started or utcnow()
    return _flushed(
        db,
        SignInSession(
            token_hash=secrets.token_bytes(32),
            account_id=owner.id,
            session_key=None if ended_at else secrets.token_bytes(32),
            device="Chrome on Linux",
            created_at=started,
            last_seen_at=started,
            expires_at=expires_at or started + timedelta(hours=12),
            ended_at=ended_at,
            end_reason="signed-out" if ended_at else None,
        ),
    )


def known_browser(
    db: Session, owner: Account, *, last_seen: datetime | None = None
) -> KnownBrowser:
    last_seen = last_seen or utcnow()
    return _flushed(
        db,
        KnownBrowser(
            account_id=owner.id,
            token_hash=secrets.token_bytes(32),
            device="Firefox on Android",
            first_seen_at=last_seen,
            last_seen_at=last_seen,
        ),
    )


def invitation(
    db: Session,
    created_by: Account,
    *,
    expires_at: datetime | None = None,
    redeemed_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> Invitation:
    return _flushed(
        db,
        Invitation(
            code_hash=secrets.token_bytes(32),
            purpose=InvitationPurpose.INVITE,
            role=Role.FACILITATOR,
            account_id=new_id(),
            kdf_salt=secrets.token_bytes(wire.SALT),
            kdf_ops=1,
            kdf_mem=8 * 1024 * 1024,
            created_by_id=created_by.id,
            expires_at=expires_at or utcnow() + timedelta(days=14),
            redeemed_at=redeemed_at,
            revoked_at=revoked_at,
        ),
    )
