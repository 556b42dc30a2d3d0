"""Storing content objects: structural checks on ciphertext the server cannot read.

The server checks what it can without keys: sizes, nonce room, chunk order and final flags,
that the manifest hash is the hash of the manifest sent, and grant sizes. The browsers that
open an object check everything else (every chunk hash against the decrypted manifest).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal import protocol, wire
from portal.accounts.models import Account
from portal.cases.models import Case, Participant
from portal.db import utcnow
from portal.errors import BadInput, NotFound
from portal.messages.models import (
    ContentChunk,
    ContentGrant,
    ContentKind,
    ContentObject,
    ContentVersion,
    GrantPurpose,
)

AEAD_OVERHEAD = 24 + 16  # nonce and tag
CONTENT_GRANT_SIZE = wire.CONTENT_GRANT
MAX_MANIFEST = 64 * 1024
MAX_PARTS = 32
MAX_INLINE_BYTES = 900 * 1024  # letters travel in one request; recordings get resumable uploads


@dataclass(frozen=True)
class ChunkIn:
    part: int
    index: int
    final: bool
    data: bytes


@dataclass(frozen=True)
class Upload:
    """One version of a content object as the browser sent it."""

    manifest: bytes
    manifest_hash: bytes
    chunks: tuple[ChunkIn, ...]


def issue_object(
    db: Session,
    case: Case,
    author: Account,
    kind: ContentKind,
    entered_for: Participant | None = None,
) -> ContentObject:
    """An id for the browser to bind its encryption to, before anything is encrypted."""
    obj = ContentObject(
        case_id=case.id,
        kind=kind,
        author_id=author.id,
        entered_for_id=entered_for.id if entered_for else None,
        created_at=utcnow(),
    )
    db.add(obj)
    db.flush()
    return obj


def object_for(
    db: Session, object_id: str, case: Case, author: Account, kind: ContentKind
) -> ContentObject:
    obj = db.get(ContentObject, object_id)
    if obj is None or obj.case_id != case.id or obj.author_id != author.id or obj.kind is not kind:
        raise NotFound("That item could not be found.")
    return obj


def check_upload(upload: Upload) -> None:
    if not AEAD_OVERHEAD < len(upload.manifest) <= MAX_MANIFEST:
        raise BadInput("The message could not be read. Nothing was saved.", field="manifest")
    if protocol.manifest_hash(upload.manifest) != upload.manifest_hash:
        raise BadInput("The message arrived damaged. Nothing was saved.", field="manifest_hash")
    if not upload.chunks:
        raise BadInput("The message is empty. Nothing was saved.", field="chunks")
    total = 0
    by_part: dict[int, list[ChunkIn]] = {}
    for chunk in upload.chunks:
        if not AEAD_OVERHEAD <= len(chunk.data) <= protocol.CHUNK_SIZE + AEAD_OVERHEAD:
            raise BadInput("The message arrived damaged. Nothing was saved.", field="chunks")
        total += len(chunk.data)
        by_part.setdefault(chunk.part, []).append(chunk)
    if total > MAX_INLINE_BYTES:
        raise BadInput("This message is too long to send. Nothing was saved.", field="chunks")
    if sorted(by_part) != list(range(len(by_part))) or len(by_part) > MAX_PARTS:
        raise BadInput("The message arrived damaged. Nothing was saved.", field="chunks")
    for chunks in by_part.values():
        indexes = [c.index for c in chunks]
        finals = [c.final for c in chunks]
        if indexes != list(range(len(chunks))) or finals != [False] * (len(chunks) - 1) + [True]:
            raise BadInput("The message arrived damaged. Nothing was saved.", field="chunks")


def check_grant(grant: bytes) -> None:
    if len(grant) != CONTENT_GRANT_SIZE:
        raise BadInput("The message's keys arrived damaged. Nothing was saved.", field="grants")


def store_version(db: Session, obj: ContentObject, version: int, upload: Upload) -> ContentVersion:
    check_upload(upload)
    if db.get(ContentVersion, (obj.id, version)) is not None:
        raise BadInput("That version was already sent.", field="version")
    row = ContentVersion(
        object_id=obj.id,
        version=version,
        manifest=upload.manifest,
        manifest_hash=upload.manifest_hash,
        ciphertext_size=sum(len(c.data) for c in upload.chunks),
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    for chunk in upload.chunks:
        db.add(
            ContentChunk(
                object_id=obj.id,
                version=version,
                part=chunk.part,
                index=chunk.index,
                final=chunk.final,
                data=chunk.data,
            )
        )
    db.flush()
    return row


def add_grant(
    db: Session,
    obj: ContentObject,
    version: int,
    purpose: GrantPurpose,
    sender: Account,
    grant: bytes,
    *,
    recipient: Account | None = None,
    case_epoch: int | None = None,
) -> ContentGrant:
    check_grant(grant)
    row = ContentGrant(
        object_id=obj.id,
        version=version,
        purpose=purpose,
        sender_id=sender.id,
        recipient_account_id=recipient.id if recipient else None,
        recipient_case_epoch=case_epoch,
        grant=grant,
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return row


def remove_recipient_grants(db: Session, object_id: str) -> None:
    """Crypto-shredding of a release: without the grant, the recipient has no key."""
    db.execute(
        delete(ContentGrant).where(
            ContentGrant.object_id == object_id, ContentGrant.purpose == GrantPurpose.RECIPIENT
        )
    )


def grant_for(
    db: Session,
    object_id: str,
    version: int,
    purpose: GrantPurpose,
    recipient: Account | None = None,
) -> ContentGrant | None:
    query = select(ContentGrant).where(
        ContentGrant.object_id == object_id,
        ContentGrant.version == version,
        ContentGrant.purpose == purpose,
    )
    if recipient is not None:
        query = query.where(ContentGrant.recipient_account_id == recipient.id)
    return db.scalars(query.order_by(ContentGrant.created_at.desc())).first()


def chunks_of(db: Session, object_id: str, version: int) -> list[ContentChunk]:
    return list(
        db.scalars(
            select(ContentChunk)
            .where(ContentChunk.object_id == object_id, ContentChunk.version == version)
            .order_by(ContentChunk.part, ContentChunk.index)
        )
    )
