"""Upload and chunk endpoints (docs/api-media.md). Thin: parse, authorise (media.policy), one
service (content.uploads), answer. The PUT streams its body to the blob store on the event
loop, between two short transactions, so a chunk is never held whole in memory; a PUT may
carry several consecutive chunks (media.batches), so those two transactions are paid once for
all of them. A chunk GET may likewise ask for several consecutive chunks (``?count=n``),
authorised once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response, StreamingResponse

from portal import protocol
from portal.accounts.models import Role
from portal.blobstore import ChunkKey, ChunkTooLarge, ChunkWrites, StoredChunk
from portal.content import services as content
from portal.content import uploads
from portal.errors import BadInput, NotFound, PortalError, TooLarge
from portal.media import batches, policy
from portal.web import Ctx, StreamCtx, endpoint, log, streaming_endpoint

# Participants upload their own messages, supporters what they write on one's behalf, and a
# facilitator only the scanned pages of a letter they entered for a participant without access
# (policy.upload_target decides which object).
UPLOADERS = frozenset({Role.PARTICIPANT, Role.SUPPORTER, Role.FACILITATOR})
OCTETS = "application/octet-stream"


def _target(ctx: Ctx, *, writing: bool) -> policy.UploadTarget:
    params = ctx.request.path_params
    return policy.upload_target(
        ctx.db, ctx.require_account(), params["object_id"], params["version"], writing=writing
    )


@endpoint(roles=UPLOADERS, api=True)
def api_start_upload(ctx: Ctx) -> Response:
    target = _target(ctx, writing=True)
    declared = ctx.fields.integer("bytes", minimum=0, maximum=2**62)
    uploads.start_upload(
        ctx.db,
        ctx.settings,
        obj=target.obj,
        version=target.version,
        account_id=ctx.require_account().id,
        declared=declared,
    )
    held = uploads.held_chunks(ctx.db, target.obj.id, target.version)
    return JSONResponse(
        {"held": uploads.held_json(held), "max_chunk_bytes": uploads.MAX_CHUNK_BYTES}
    )


@endpoint(roles=UPLOADERS, api=True)
def api_upload_status(ctx: Ctx) -> Response:
    target = _target(ctx, writing=False)
    pending = policy.pending_upload(ctx.db, target)
    held = uploads.held_chunks(ctx.db, target.obj.id, target.version)
    return JSONResponse({"held": uploads.held_json(held), "declared_bytes": pending.declared_bytes})


@endpoint(roles=UPLOADERS, api=True)
def api_cancel_upload(ctx: Ctx) -> Response:
    target = _target(ctx, writing=False)
    uploads.cancel_upload(ctx.db, policy.pending_upload(ctx.db, target))
    blobs, object_id, version = ctx.state.blobs, target.obj.id, target.version
    ctx.after_commit(lambda: blobs.delete_version(object_id, version))
    return JSONResponse({"ok": True})


def _chunk_key(ctx: Ctx) -> tuple[policy.UploadTarget, ChunkKey]:
    params = ctx.request.path_params
    target = _target(ctx, writing=True)
    part, index = policy.uploaded_chunk_position(params["part"], params["index"])
    return target, ChunkKey(target.obj.id, target.version, part, index)


def _authorise_put(ctx: Ctx) -> tuple[ChunkKey, int]:
    """First transaction: who, which chunk, and how many bytes it may stream."""
    target, key = _chunk_key(ctx)
    upload = policy.open_upload(target)
    length = _content_length(ctx)
    if length is not None and length > uploads.MAX_CHUNK_BYTES:
        raise TooLarge("That piece of the message is larger than allowed. It was not kept.")
    room = uploads.chunk_room(ctx.db, key.object_id, key.version, upload, key.part, key.chunk)
    if room <= 0 or (length is not None and length > room):
        raise uploads.over_declared()
    return key, room


def _content_length(ctx: Ctx) -> int | None:
    length = ctx.request.headers.get("content-length", "")
    return int(length) if length.isascii() and length.isdigit() else None


def _chunk_json(held: uploads.Held) -> dict[str, object]:
    return {
        "part": held.part,
        "index": held.index,
        "size": held.size,
        "hash": protocol.b64encode(held.hash),
    }


def _record_put(
    ctx: Ctx, key: ChunkKey, stored: StoredChunk, writes: ChunkWrites
) -> dict[str, object]:
    """Second transaction: is the upload still open (not sent, cancelled or expired meanwhile)?
    Then hold the chunk."""
    (held,) = uploads.record_chunks(
        ctx.db,
        ctx.require_account().id,
        key.object_id,
        key.version,
        key.part,
        [(key.chunk, stored)],
    )
    _replace_orphans(ctx, writes)
    return _chunk_json(held)


def _replace_orphans(ctx: Ctx, writes: ChunkWrites) -> None:
    """In the record's transaction, after record_chunks held these chunks with the upload's row
    locked: the bytes stored under the keys of those kept aside (``writes.aside``: other bytes
    were stored there) are named by no row other than the ones just written with the new
    bytes' hash (a row with other bytes was a Conflict there), so they are an orphan (a crash
    between a write and its row) and the new, verified bytes take their place. Under the lock,
    no other writer can be recording the old bytes meanwhile."""
    for received in writes.aside:
        ctx.state.blobs.replace_chunk(received)


def _forget_unheld(keys: list[ChunkKey], ctx: Ctx) -> None:
    """After a refused record: remove the blobs no row names (a re-PUT's stay)."""
    blobs = ctx.state.blobs
    for key in keys:
        if not uploads.is_referenced(ctx.db, key):
            ctx.after_commit(partial(blobs.delete_chunk, key))


async def _forget_after_failure(ctx: StreamCtx, keys: list[ChunkKey]) -> None:
    # If even this fails (the session ended), the cleanup job removes the orphans later.
    if keys:
        with contextlib.suppress(PortalError):
            await ctx.run(partial(_forget_unheld, keys))


@streaming_endpoint(roles=UPLOADERS)
async def api_put_chunk(ctx: StreamCtx) -> Response:
    listed = ctx.request.headers.get(batches.HEADER)
    if listed is not None:
        return await _put_batch(ctx, listed)
    # Authorising only reads; recording the chunk writes, and keeps the session alive.
    key, room = await ctx.run(_authorise_put, read_only=True)
    async with _writing(ctx) as writes:
        try:
            stored = await writes.write(key, ctx.request.stream(), max_size=room)
        except ChunkTooLarge:
            if room < uploads.MAX_CHUNK_BYTES:
                raise uploads.over_declared() from None
            raise
        return await _recorded(ctx, writes, partial(_record_put, key=key, stored=stored))


@contextlib.asynccontextmanager
async def _writing(ctx: StreamCtx) -> AsyncIterator[ChunkWrites]:
    """A PUT's blob writes: closed whatever happens, and what they wrote removed if the PUT
    fails (unless a row already holds it)."""
    writes = ctx.blobs.begin_writes()
    try:
        yield writes
    except Exception:
        await _forget_after_failure(ctx, writes.written)
        raise
    finally:
        writes.close()


async def _recorded(ctx: StreamCtx, writes: ChunkWrites, record: Callable[..., Any]) -> Response:
    """Record what a PUT wrote. Its chunks are fsynced and put in place in the record's worker
    thread, just before its transaction (one trip to a thread for the PUT). Losing the rows in
    a crash costs a resend, never a submitted message, so the commit need not wait for the
    disk."""
    answer = await ctx.run(
        partial(record, writes=writes), touch=True, relaxed_commit=True, first=writes.finish
    )
    return JSONResponse(answer)


# ------------------------------------------------------------------- several chunks in one PUT


@dataclass(frozen=True)
class _Batch:
    first: ChunkKey
    chunks: list[batches.Expected]
    held: set[int]  # indexes held already with the same bytes: read past, not written again

    def key(self, index: int) -> ChunkKey:
        return self.first._replace(chunk=index)


def _authorise_batch(ctx: Ctx, listed: str) -> _Batch:
    """First transaction of a batch: who, which chunks, and do they fit what is left."""
    target, first = _chunk_key(ctx)
    chunks = batches.parse_header(listed, first.chunk)
    length = _content_length(ctx)
    if length is not None and length != sum(chunk.size for chunk in chunks):
        raise BadInput(batches.UNREADABLE)
    held = uploads.check_batch(
        ctx.db,
        first.object_id,
        first.version,
        policy.open_upload(target),
        first.part,
        [(c.index, c.size, c.hash) for c in chunks],
    )
    return _Batch(first, chunks, held)


def _record_batch(
    ctx: Ctx, batch: _Batch, stored: list[tuple[int, StoredChunk]], writes: ChunkWrites
) -> dict[str, object]:
    """Second transaction: the upload is still open; hold every chunk written (or none)."""
    first = batch.first
    rows = uploads.record_chunks(
        ctx.db,
        ctx.require_account().id,
        first.object_id,
        first.version,
        first.part,
        stored,
        besides=sorted(batch.held),
    )
    _replace_orphans(ctx, writes)
    # What is held now, as the server has it (the browser checks it against what it sent).
    return {"chunks": [_chunk_json(row) for row in rows]}


async def _put_batch(ctx: StreamCtx, listed: str) -> Response:
    """Stream each announced chunk to the blob store, checking its size and hash as it ends.
    Any chunk short, long or damaged refuses the whole batch: nothing of it is held, and what
    was written of it is removed. The chunks are fsynced and put in place together, in the
    record's worker thread just before its transaction: one trip to a thread for the batch."""
    batch = await ctx.run(partial(_authorise_batch, listed=listed), read_only=True)
    body = batches.BodySplitter(ctx.request.stream())
    async with _writing(ctx) as writes:
        stored: list[tuple[int, StoredChunk]] = []
        for chunk in batch.chunks:
            if chunk.index in batch.held:
                async for _piece in body.take(chunk.size):
                    pass
                continue
            key = batch.key(chunk.index)
            result = await writes.write(key, body.take(chunk.size), max_size=chunk.size)
            if result.size != chunk.size:
                raise BadInput(
                    "The upload ended before all its pieces arrived. Nothing of it was kept."
                )
            if result.digest != chunk.hash:
                raise BadInput(
                    "A piece of the message arrived damaged. Nothing of this upload was kept."
                )
            stored.append((chunk.index, result))
        if not await body.at_end():
            raise BadInput(batches.UNREADABLE)
        return await _recorded(ctx, writes, partial(_record_batch, batch=batch, stored=stored))


# ------------------------------------------------------------------- reading stored chunks

# Several consecutive chunks in one GET (docs/api-media.md, "Several chunks in one GET"): the
# session and the authorisation, most of the server's work per GET, are paid once for all of
# them, and the browser's cost per request too. The server holds one chunk at a time whatever
# the count; the reader chooses how many it can hold (the player asks for 16: chunk-fetch.js
# FETCH_BATCH; bench/README.md, "Playback, fifth round").
MAX_GET_CHUNKS = 32
UNREADABLE_COUNT = f"count must be a whole number from 1 to {MAX_GET_CHUNKS}."


def _count(ctx: Ctx) -> int | None:
    text = ctx.request.query_params.get("count")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 2):
        raise BadInput(UNREADABLE_COUNT, field="count")
    if not 1 <= int(text) <= MAX_GET_CHUNKS:
        raise BadInput(UNREADABLE_COUNT, field="count")
    return int(text)


# In a thread: the blob store may be an object store over the network (web.endpoint).
@endpoint(api=True, threads=True)
def api_content_chunk(ctx: Ctx) -> Response:
    """One stored chunk, raw; or with ``?count=n`` that chunk and the n - 1 after it, joined,
    their sizes listed in ``X-Chunks``. Authorised alike either way: the version must be
    readable by this account (media.policy.readable_version), and every chunk asked for must
    exist, or nothing is sent."""
    params = ctx.request.path_params
    row = policy.readable_version(
        ctx.db, ctx.require_account(), params["object_id"], params["version"]
    )
    part, index = policy.chunk_position(params["part"], params["index"])
    count = _count(ctx)
    if count is not None:
        return _several_chunks(ctx, row.object_id, row.version, part, index, count)
    chunk = content.stored_chunk(ctx.db, row.object_id, row.version, part, index)
    if chunk is None:
        raise NotFound
    headers = {"Cache-Control": "no-store"}
    if chunk.data is not None:
        return Response(chunk.data, media_type=OCTETS, headers=headers)
    key = ChunkKey(row.object_id, row.version, part, index)
    try:
        # Opened now (the blob stores open at once), so a missing one is a 404.
        opened = ctx.state.blobs.read_chunk(key)
    except FileNotFoundError:
        _missing(key)
    headers["Content-Length"] = str(chunk.size)
    return StreamingResponse(_one_by_one([lambda: opened]), media_type=OCTETS, headers=headers)


def _several_chunks(
    ctx: Ctx, object_id: str, version: int, part: int, first: int, count: int
) -> Response:
    chunks = content.stored_chunks(ctx.db, object_id, version, part, first, count)
    if chunks is None:
        raise NotFound
    blobs = ctx.state.blobs
    readers: list[Callable[[], Iterator[bytes]]] = []
    for chunk in chunks:
        if chunk.data is not None:
            readers.append(partial(iter, (chunk.data,)))
            continue
        key = ChunkKey(object_id, version, part, chunk.index)
        # Each is opened only when its turn comes (no handle is left open by a refused
        # answer), and its size asked for now, so a missing one is a 404, not an answer cut
        # short.
        if blobs.stored_size(key) is None:
            _missing(key)
        readers.append(partial(blobs.read_chunk, key))
    headers = {
        "Cache-Control": "no-store",
        "Content-Length": str(sum(chunk.size for chunk in chunks)),
        batches.HEADER: ",".join(str(chunk.size) for chunk in chunks),
    }
    return StreamingResponse(_one_by_one(readers), media_type=OCTETS, headers=headers)


def _missing(key: ChunkKey) -> NoReturn:
    # A row without its blob: the data folder was not restored with the database.
    log.error("missing blob for object %s version %s", key.object_id, key.version)
    raise NotFound


def _read_whole(reader: Callable[[], Iterator[bytes]]) -> bytes:
    return b"".join(reader())


async def _one_by_one(readers: list[Callable[[], Iterator[bytes]]]) -> AsyncIterator[bytes]:
    """Each stored chunk read whole in one trip to a thread, after the request's transaction,
    and sent in one piece. Streamed piece by piece, each 64 KiB cost a trip to a thread and a
    send through every middleware: 17 of each for 1 MiB, about 40% of the server's CPU per GET
    (bench/README.md, "Browser playback"), and under load each trip also waits its turn for a
    core. A chunk is at most uploads.MAX_CHUNK_BYTES, and one is held at a time, so memory
    stays bounded by it whatever the count."""
    for reader in readers:
        yield await run_in_threadpool(_read_whole, reader)
