"""Storing content objects: structural checks on ciphertext the server cannot read.

The server checks what it can without keys: sizes, nonce room, chunk order and final flags,
that the manifest hash is the hash of the manifest sent, and grant sizes. The browsers that
open an object check everything else (every chunk hash against the decrypted manifest).

A version's chunks arrive inline (in the submit JSON: the text) or were uploaded before (held
in the blob store, see ``uploads.py``): both kinds together must form the whole object.

Never commits, and never touches the blob store: whoever removes rows here deletes the blobs
after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal import protocol, wire
from portal.accounts.models import Account
from portal.blobstore import ChunkKey
from portal.cases.models import Case, Participant
from portal.content import quota, uploads
from portal.content.models import (
    ContentChunk,
    ContentGrant,
    ContentKind,
    ContentObject,
    ContentVersion,
    GrantPurpose,
    PendingUpload,
)
from portal.content.uploads import StoredChunkIn
from portal.db import HOME_TOUCHES, MissingRow, utcnow
from portal.errors import BadInput, NotFound

AEAD_OVERHEAD = uploads.AEAD_OVERHEAD  # nonce and tag
FULL_CHUNK = protocol.CHUNK_SIZE + AEAD_OVERHEAD
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
    stored: tuple[StoredChunkIn, ...] = ()

    @property
    def ciphertext_size(self) -> int:
        return sum(len(c.data) for c in self.chunks) + sum(c.size for c in self.stored)


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
    """Inline and stored chunks together: parts 0..n-1, each indexes 0..k-1, the last final.

    Every chunk but the last of a part holds exactly 1 MiB of plaintext (docs/protocol-v1.md),
    so its ciphertext is exactly ``FULL_CHUNK`` bytes: the one size fact the server can check.
    """
    damaged = "The message arrived damaged. Nothing was saved."
    if not AEAD_OVERHEAD < len(upload.manifest) <= MAX_MANIFEST:
        raise BadInput("The message could not be read. Nothing was saved.", field="manifest")
    if protocol.manifest_hash(upload.manifest) != upload.manifest_hash:
        raise BadInput(damaged, field="manifest_hash")
    if not upload.chunks and not upload.stored:
        raise BadInput("The message is empty. Nothing was saved.", field="chunks")
    if sum(len(c.data) for c in upload.chunks) > MAX_INLINE_BYTES:
        raise BadInput("This message is too long to send. Nothing was saved.", field="chunks")
    # (part, index, final, size) of every chunk, wherever it travelled.
    by_part: dict[int, list[tuple[int, bool, int]]] = {}
    for part, index, final, size in [
        *((c.part, c.index, c.final, len(c.data)) for c in upload.chunks),
        *((c.part, c.index, c.final, c.size) for c in upload.stored),
    ]:
        if not AEAD_OVERHEAD <= size <= FULL_CHUNK:
            raise BadInput(damaged, field="chunks")
        by_part.setdefault(part, []).append((index, final, size))
    if sorted(by_part) != list(range(len(by_part))) or len(by_part) > MAX_PARTS:
        raise BadInput(damaged, field="chunks")
    for chunks in by_part.values():
        chunks.sort()
        indexes = [index for index, _final, _size in chunks]
        finals = [final for _index, final, _size in chunks]
        if indexes != list(range(len(chunks))) or finals != [False] * (len(chunks) - 1) + [True]:
            raise BadInput(damaged, field="chunks")
        if any(size != FULL_CHUNK for _index, _final, size in chunks[:-1]):
            raise BadInput(damaged, field="chunks")


def check_grant(grant: bytes) -> None:
    if len(grant) != CONTENT_GRANT_SIZE:
        raise BadInput("The message's keys arrived damaged. Nothing was saved.", field="grants")


def store_version(db: Session, obj: ContentObject, version: int, upload: Upload) -> ContentVersion:
    """The version's rows; stored chunks must be held by the upload, which is consumed.

    Held chunks the submit did not list stay in the blob store until the cleanup job finds
    them unreferenced (see ``unlisted_held``, which lets the caller remove them sooner).
    """
    check_upload(upload)
    if db.get(ContentVersion, (obj.id, version)) is not None:
        raise BadInput("That version was already sent.", field="version")
    uploads.take_held(db, obj.id, version, upload.stored)
    row = ContentVersion(
        object_id=obj.id,
        version=version,
        manifest=upload.manifest,
        manifest_hash=upload.manifest_hash,
        ciphertext_size=upload.ciphertext_size,
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    quota.count_stored(db, obj.case_id, upload.ciphertext_size)
    for chunk in upload.chunks:
        db.add(
            ContentChunk(
                object_id=obj.id,
                version=version,
                part=chunk.part,
                index=chunk.index,
                final=chunk.final,
                data=chunk.data,
                size=len(chunk.data),
                hash=protocol.chunk_hash(chunk.data),
            )
        )
    for stored in upload.stored:
        # No data row: the bytes are in the blob store under this same key.
        db.add(
            ContentChunk(
                object_id=obj.id,
                version=version,
                part=stored.part,
                index=stored.index,
                final=stored.final,
                data=None,
                size=stored.size,
                hash=stored.hash,
            )
        )
    db.flush()
    return row


def unlisted_held(db: Session, obj: ContentObject, version: int, upload: Upload) -> list[ChunkKey]:
    """Held chunks of this version that the submit does not list (removed before sending)."""
    listed = {(c.part, c.index) for c in upload.stored}
    return [
        ChunkKey(obj.id, version, c.part, c.index)
        for c in uploads.held_chunks(db, obj.id, version)
        if (c.part, c.index) not in listed
    ]


def delete_versions(db: Session, object_id: str) -> None:
    """Every version of an object, with its chunks and grants, and any upload of a version not
    yet sent (blobs: after the commit)."""
    removed = db.execute(
        select(ContentObject.case_id, func.coalesce(func.sum(ContentVersion.ciphertext_size), 0))
        .join(ContentVersion, ContentVersion.object_id == ContentObject.id)
        .where(ContentObject.id == object_id)
        .group_by(ContentObject.case_id)
    ).first()
    if removed is not None:
        quota.count_stored(db, removed[0], -int(removed[1]))
    db.execute(delete(ContentChunk).where(ContentChunk.object_id == object_id))
    db.execute(
        delete(ContentGrant)
        .where(ContentGrant.object_id == object_id)
        .execution_options(**{HOME_TOUCHES: {"objects": [object_id]}})
    )
    db.execute(delete(ContentVersion).where(ContentVersion.object_id == object_id))
    db.execute(delete(PendingUpload).where(PendingUpload.object_id == object_id))


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
        sender_public_key=sender.public_key,
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
        delete(ContentGrant)
        .where(ContentGrant.object_id == object_id, ContentGrant.purpose == GrantPurpose.RECIPIENT)
        .execution_options(**{HOME_TOUCHES: {"objects": [object_id]}})
    )


def remove_grants_to(db: Session, account_id: str) -> int:
    """Every grant ever made to this account, gone at once (a supporter's access taken away:
    without grants the server holds nothing more they could open); how many."""
    removed = db.execute(
        delete(ContentGrant)
        .where(ContentGrant.recipient_account_id == account_id)
        .execution_options(**{HOME_TOUCHES: {"accounts_cases": [account_id]}})
    )
    return int(getattr(removed, "rowcount", 0) or 0)


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


def version_of(db: Session, object_id: str, version: int) -> ContentVersion:
    """A version that must exist (a message's current one): a missing row is damage, not a
    request for something absent."""
    row = db.get(ContentVersion, (object_id, version))
    if row is None:
        raise MissingRow(f"content version {object_id} v{version}")
    return row


@dataclass(frozen=True)
class SealedObject:
    """One stored version as its readers get it: the manifest and every chunk's place."""

    row: ContentVersion
    chunks: list[ContentChunk]

    @property
    def inline(self) -> list[bytes]:
        return [c.data for c in self.chunks if c.data is not None]


def sealed_object(db: Session, object_id: str, version: int) -> SealedObject:
    row = db.get(ContentVersion, (object_id, version))
    if row is None:
        raise NotFound
    return SealedObject(row, chunks_of(db, object_id, version))


def stored_chunk(
    db: Session, object_id: str, version: int, part: int, index: int
) -> ContentChunk | None:
    return db.get(ContentChunk, (object_id, version, part, index))


def stored_chunks(
    db: Session, object_id: str, version: int, part: int, first: int, count: int
) -> list[ContentChunk] | None:
    """Chunks ``first`` .. ``first + count - 1`` of a part, in order, in one statement; None
    unless every one of them is stored."""
    rows = db.scalars(
        select(ContentChunk)
        .where(
            ContentChunk.object_id == object_id,
            ContentChunk.version == version,
            ContentChunk.part == part,
            ContentChunk.index >= first,
            ContentChunk.index < first + count,
        )
        .order_by(ContentChunk.index)
    ).all()
    return list(rows) if len(rows) == count else None
