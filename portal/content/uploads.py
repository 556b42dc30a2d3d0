"""Upload rules: start (with the quotas), hold chunks, cancel, and hand held chunks to a submit.

Never commits, and never touches the blob store except to make a submitted version's chunks
durable before the submit writes anything (``make_submitted_chunks_durable``): the caller
deletes blobs only after its transaction committed (``Ctx.after_commit``), so a rollback cannot
leave a row pointing at a removed file. Sizes here are ciphertext sizes; the server never learns
a plaintext size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from portal import protocol
from portal.blobstore import BlobStore, ChunkKey, StoredChunk
from portal.content import quota
from portal.content.models import (
    ContentChunk,
    ContentObject,
    HeldChunk,
    PendingUpload,
)
from portal.content.quota import human_bytes
from portal.db import utcnow
from portal.errors import BadInput, Conflict, NotFound, TooLarge
from portal.settings import Settings

log = logging.getLogger("portal.media")  # the name operators know from the logs

AEAD_OVERHEAD = 24 + 16  # nonce and tag
MAX_CHUNK_BYTES = protocol.CHUNK_SIZE + AEAD_OVERHEAD
FIRST_UPLOADED_PART = 1  # part 0 (the text) travels inline in the submit
LAST_PART = 31
LAST_INDEX = 1_048_575
NOTHING_UPLOADED = "Nothing was uploaded."


@dataclass(frozen=True)
class StoredChunkIn:
    """A chunk the submit says was uploaded: it must be held with exactly this size and hash."""

    part: int
    index: int
    final: bool
    size: int
    hash: bytes


# ------------------------------------------------------------------------------------- reading


def held_chunks(db: Session, object_id: str, version: int) -> list[HeldChunk]:
    return list(
        db.scalars(
            select(HeldChunk)
            .where(HeldChunk.object_id == object_id, HeldChunk.version == version)
            .order_by(HeldChunk.part, HeldChunk.index)
        )
    )


def held_json(chunks: Iterable[HeldChunk]) -> list[dict[str, object]]:
    return [
        {"part": c.part, "index": c.index, "size": c.size, "hash": protocol.b64encode(c.hash)}
        for c in chunks
    ]


def _held_bytes(db: Session, object_id: str, version: int, *, besides: int | None = None) -> int:
    query = select(func.coalesce(func.sum(HeldChunk.size), 0)).where(
        HeldChunk.object_id == object_id, HeldChunk.version == version
    )
    total = int(db.scalar(query) or 0)
    return total - (besides or 0)


# ------------------------------------------------------------------------------------ uploading


def start_upload(
    db: Session,
    settings: Settings,
    *,
    obj: ContentObject,
    version: int,
    account_id: str,
    declared: int,
) -> PendingUpload:
    """Start or resume; the quotas are checked here, before any chunk is sent."""
    pending = db.get(PendingUpload, (obj.id, version), with_for_update=True)
    held = _held_bytes(db, obj.id, version) if pending is not None else 0
    if declared < held:
        raise BadInput(
            "More than that has already been uploaded for this message. Please start again.",
            field="bytes",
        )
    if declared > settings.max_message_bytes:
        raise TooLarge(
            "This message is too large to send: a message can be at most "
            f"{human_bytes(settings.max_message_bytes)}. {NOTHING_UPLOADED}",
            field="bytes",
        )
    quota.decide_alone(db, obj.case_id)
    in_case = quota.usage(db, obj.case_id, besides=pending)
    if in_case + declared > settings.case_quota_bytes:
        raise TooLarge(
            "There is not enough room left in this case for this message: a case can hold at "
            f"most {human_bytes(settings.case_quota_bytes)}. {NOTHING_UPLOADED} "
            "Please talk to your facilitator.",
            field="bytes",
        )
    everywhere = quota.usage(db, None, besides=pending)
    if everywhere + declared > settings.storage_cap_bytes:
        raise TooLarge(
            "The service's storage is full: it can hold at most "
            f"{human_bytes(settings.storage_cap_bytes)}. {NOTHING_UPLOADED} "
            "Please talk to your facilitator.",
            field="bytes",
        )
    now = utcnow()
    if pending is None:
        pending = PendingUpload(
            object_id=obj.id,
            version=version,
            account_id=account_id,
            case_id=obj.case_id,
            declared_bytes=declared,
            created_at=now,
            updated_at=now,
        )
        db.add(pending)
    else:
        pending.declared_bytes = declared
        pending.updated_at = now
    db.flush()
    return pending


@dataclass(frozen=True)
class OpenUpload:
    """An upload in progress as a PUT's authorisation found it (media.policy.upload_target, in
    the same statement as the rest): who started it, what it declared, what it holds."""

    account_id: str
    declared_bytes: int
    held_bytes: int


@dataclass(frozen=True)
class Held:
    """A held chunk, as a PUT answers it."""

    part: int
    index: int
    size: int
    hash: bytes


# The statements of a PUT, built once (building one costs more than running it), and run on the
# session's connection as Core: a PUT needs a few numbers, not ORM objects, an identity map or
# the ORM's execution layer, which cost more than SQLite's own work here (bench/README.md,
# "Where the ingest CPU goes").
_HELD_AT = (
    select(HeldChunk.index, HeldChunk.size, HeldChunk.hash)
    .where(
        HeldChunk.object_id == bindparam("object_id"),
        HeldChunk.version == bindparam("version"),
        HeldChunk.part == bindparam("part"),
        # A range, not IN (...): a batch's chunks are consecutive, and an expanding IN list is
        # rendered afresh on every call (about 50 us here, as much as running the query).
        HeldChunk.index.between(bindparam("lowest"), bindparam("highest")),
    )
    .order_by(HeldChunk.index)
)
_HELD_BYTES = select(func.coalesce(func.sum(HeldChunk.size), 0)).where(
    HeldChunk.object_id == bindparam("object_id"), HeldChunk.version == bindparam("version")
)
# Holds the upload's row until the commit (an UPDATE locks it on PostgreSQL as SELECT ... FOR
# UPDATE would; SQLite's writer already holds the database), says whether the upload is still
# open for this account, and moves its last activity, in one statement.
_LOCK_OPEN_UPLOAD = (
    update(PendingUpload)
    .where(
        # Named apart from the columns: an UPDATE's own bind names are its columns'.
        PendingUpload.object_id == bindparam("upload_object_id"),
        PendingUpload.version == bindparam("upload_version"),
        PendingUpload.account_id == bindparam("upload_account_id"),
    )
    .values(updated_at=bindparam("now"))
    .returning(PendingUpload.declared_bytes)
    .execution_options(synchronize_session=False)
)
_INSERT_HELD = insert(HeldChunk)


def _held_at(
    db: Session, object_id: str, version: int, part: int, indexes: Sequence[int]
) -> dict[int, tuple[int, bytes]]:
    """(size, hash) of the chunks of ``part`` held at these indexes (and any held between
    them, which callers looking up their own indexes never see)."""
    if not indexes:
        return {}
    rows = db.connection().execute(
        _HELD_AT,
        {
            "object_id": object_id,
            "version": version,
            "part": part,
            "lowest": min(indexes),
            "highest": max(indexes),
        },
    )
    return {index: (size, digest) for index, size, digest in rows}


def chunk_room(
    db: Session, object_id: str, version: int, upload: OpenUpload, part: int, index: int
) -> int:
    """How many bytes a PUT of this chunk may stream: a chunk, or what is left of the total."""
    if _held_at(db, object_id, version, part, [index]):
        return MAX_CHUNK_BYTES  # the same bytes again is a no-op; other bytes are a conflict
    return min(MAX_CHUNK_BYTES, upload.declared_bytes - upload.held_bytes)


def over_declared() -> TooLarge:
    return TooLarge(
        "This is more than the upload said it would send. The piece was not kept: start the "
        "upload again with the full size."
    )


def check_batch(
    db: Session,
    object_id: str,
    version: int,
    upload: OpenUpload,
    part: int,
    chunks: Sequence[tuple[int, int, bytes]],
) -> set[int]:
    """Before streaming several chunks ((index, size, hash) each): the indexes already held with
    exactly those bytes (not written again). Other bytes held for one of them: Conflict; more
    new bytes than the upload has left: TooLarge. Either refuses the whole batch."""
    held = _held_at(db, object_id, version, part, [index for index, _size, _hash in chunks])
    same: set[int] = set()
    new_bytes = 0
    for index, size, digest in chunks:
        existing = held.get(index)
        if existing is None:
            new_bytes += size
        elif existing == (size, digest):
            same.add(index)
        else:
            raise Conflict("Different bytes were already uploaded for this part of the message.")
    if new_bytes > upload.declared_bytes - upload.held_bytes:
        raise over_declared()
    return same


def record_chunks(
    db: Session,
    account_id: str,
    object_id: str,
    version: int,
    part: int,
    stored: Sequence[tuple[int, StoredChunk]],
    *,
    besides: Sequence[int] = (),
) -> list[Held]:
    """The rows for chunks of one part just written to the blob store, in one transaction after
    the writes: all held, or none (NotFound, Conflict, BadInput or TooLarge refuses them all).
    Returns them in order of index, with the ``besides`` indexes still held (chunks of the same
    PUT that were held already), read in the same query.

    The upload must still be open for ``account_id``: a PUT authorised moments before needs no
    more, since submitting, cancelling, expiry and deleting all remove the upload's row.
    """
    now = utcnow()
    key = {"object_id": object_id, "version": version}
    # Locks the upload first, so that parallel PUTs cannot both fit under the total: the held
    # bytes are summed after the lock, in a statement of their own (on PostgreSQL a statement's
    # snapshot is taken when it starts, so a sum inside the locking statement could miss the
    # rows of the PUT it waited for).
    declared = (
        db.connection()
        .execute(
            _LOCK_OPEN_UPLOAD,
            {
                "upload_object_id": object_id,
                "upload_version": version,
                "upload_account_id": account_id,
                "now": now,
            },
        )
        .scalar()
    )
    if declared is None:
        raise NotFound("This upload was cancelled or sent meanwhile.")
    existing = _held_at(db, object_id, version, part, [*(i for i, _c in stored), *besides])
    rows: list[Held] = [Held(part, i, *existing[i]) for i in besides if i in existing]
    new_rows: list[dict[str, object]] = []
    new_bytes = 0
    for index, chunk in stored:
        found = existing.get(index)
        if found is not None:
            if found != (chunk.size, chunk.digest):
                raise Conflict(
                    "Different bytes were already uploaded for this part of the message."
                )
        elif chunk.size < AEAD_OVERHEAD:
            raise BadInput("That piece of the message arrived damaged. It was not kept.")
        else:
            new_bytes += chunk.size
            new_rows.append(
                {
                    **key,
                    "part": part,
                    "index": index,
                    "size": chunk.size,
                    "hash": chunk.digest,
                    "created_at": now,
                }
            )
        rows.append(Held(part, index, chunk.size, chunk.digest))
    if new_rows:
        held = int(db.connection().execute(_HELD_BYTES, key).scalar_one())
        if held + new_bytes > int(declared):
            raise over_declared()
        db.connection().execute(
            _INSERT_HELD, new_rows
        )  # one statement for the batch (insertmanyvalues)
    return sorted(rows, key=lambda row: row.index)


def is_referenced(db: Session, key: ChunkKey) -> bool:
    """Whether a held chunk or a stored content chunk names this blob (then it must stay)."""
    held = db.get(HeldChunk, (key.object_id, key.version, key.part, key.chunk))
    stored = db.get(ContentChunk, (key.object_id, key.version, key.part, key.chunk))
    return held is not None or stored is not None


def cancel_upload(db: Session, pending: PendingUpload) -> None:
    """Drop the rows; the caller removes the version's blobs after the commit."""
    db.execute(
        delete(HeldChunk).where(
            HeldChunk.object_id == pending.object_id, HeldChunk.version == pending.version
        )
    )
    db.delete(pending)
    db.flush()


# ------------------------------------------------------------------------------------ submitting


def take_held(db: Session, object_id: str, version: int, stored: Sequence[StoredChunkIn]) -> None:
    """Check every listed chunk is held with exactly that size and hash; consume the upload."""
    held = {(c.part, c.index): c for c in held_chunks(db, object_id, version)}
    for chunk in stored:
        match = held.get((chunk.part, chunk.index))
        if match is None:
            raise BadInput(
                "Part of the message has not finished uploading. Nothing was saved.",
                field="stored_chunks",
            )
        if match.size != chunk.size or match.hash != chunk.hash:
            raise BadInput(
                "Part of the message does not match what was uploaded. Nothing was saved.",
                field="stored_chunks",
            )
    pending = db.get(PendingUpload, (object_id, version))
    if pending is not None:
        cancel_upload(db, pending)


class ChunksLost(BadInput):
    """Held chunks whose files a crash took: their rows are dropped (kept, though the submit is
    refused), so the browser's next attempt sends just those again."""

    keeps_changes = True


def make_submitted_chunks_durable(
    db: Session, blobs: BlobStore, object_id: str, version: int, stored: Sequence[StoredChunkIn]
) -> None:
    """Before a submit writes anything: every listed chunk's file is there with its size, and
    the version's folders are fsynced, so what the message names survives a crash."""
    if not stored:
        return
    held = {(c.part, c.index): c for c in held_chunks(db, object_id, version)}  # one query
    if any((chunk.part, chunk.index) not in held for chunk in stored):
        # Named but never uploaded: nothing to make durable, and nothing may be saved.
        raise BadInput(
            "Part of the message has not finished uploading. Nothing was saved.",
            field="stored_chunks",
        )
    lost = [
        row
        for chunk in stored
        if (row := held.get((chunk.part, chunk.index))) is not None
        and blobs.stored_size(ChunkKey(object_id, version, row.part, row.index)) != row.size
    ]
    if lost:
        for row in lost:
            db.delete(row)
        db.flush()
        log.warning(
            "submit of object %s version %s: %d held chunk(s) missing",
            object_id,
            version,
            len(lost),
        )
        raise ChunksLost(
            "Part of the message did not arrive safely and has to be sent again. Please try "
            "sending again: only what is missing will be sent. Nothing was saved.",
            field="stored_chunks",
        )
    blobs.make_durable(object_id, version)
