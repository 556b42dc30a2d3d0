"""Upload and chunk endpoints (docs/api-media.md). Thin: parse, authorise (media.policy), one
service (content.uploads), answer. The PUT streams its body to the blob store on the event
loop, between two short transactions, so a chunk is never held whole in memory."""

from __future__ import annotations

import contextlib
from functools import partial

from starlette.responses import JSONResponse, Response, StreamingResponse

from portal import protocol
from portal.accounts.models import Role
from portal.blobstore import ChunkKey, ChunkTooLarge, StoredChunk
from portal.content import services as content
from portal.content import uploads
from portal.errors import NotFound, PortalError
from portal.media import policy
from portal.web import Ctx, StreamCtx, endpoint, log, streaming_endpoint

PARTICIPANT = frozenset({Role.PARTICIPANT})
OCTETS = "application/octet-stream"


def _target(ctx: Ctx, *, writing: bool) -> policy.UploadTarget:
    params = ctx.request.path_params
    return policy.upload_target(
        ctx.db, ctx.require_account(), params["object_id"], params["version"], writing=writing
    )


@endpoint(roles=PARTICIPANT, api=True)
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


@endpoint(roles=PARTICIPANT, api=True)
def api_upload_status(ctx: Ctx) -> Response:
    target = _target(ctx, writing=False)
    pending = policy.pending_upload(ctx.db, target)
    held = uploads.held_chunks(ctx.db, target.obj.id, target.version)
    return JSONResponse({"held": uploads.held_json(held), "declared_bytes": pending.declared_bytes})


@endpoint(roles=PARTICIPANT, api=True)
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
    pending = policy.pending_upload(ctx.db, target)
    room = uploads.chunk_room(ctx.db, pending, key.part, key.chunk)
    length = ctx.request.headers.get("content-length", "")
    if room <= 0 or (length.isascii() and length.isdigit() and int(length) > room):
        raise uploads.over_declared()
    return key, room


def _record_put(ctx: Ctx, key: ChunkKey, stored: StoredChunk) -> dict[str, object]:
    """Second transaction: is the upload still open (not sent, cancelled or expired meanwhile)?
    Then hold the chunk."""
    pending = policy.own_pending_upload(ctx.db, ctx.require_account(), key.object_id, key.version)
    held = uploads.record_chunk(ctx.db, pending, key.part, key.chunk, stored)
    return {
        "part": held.part,
        "index": held.index,
        "size": held.size,
        "hash": protocol.b64encode(held.hash),
    }


def _forget_unheld(key: ChunkKey, ctx: Ctx) -> None:
    """After a refused record: remove the blob unless a row still names it (a re-PUT)."""
    if not uploads.is_referenced(ctx.db, key):
        blobs = ctx.state.blobs
        ctx.after_commit(lambda: blobs.delete_chunk(key))


@streaming_endpoint(roles=PARTICIPANT)
async def api_put_chunk(ctx: StreamCtx) -> Response:
    # Authorising only reads; recording the chunk writes, and keeps the session alive.
    key, room = await ctx.run(_authorise_put, read_only=True)
    try:
        stored = await ctx.blobs.write_chunk(key, ctx.request.stream(), max_size=room)
    except ChunkTooLarge:
        if room < uploads.MAX_CHUNK_BYTES:
            raise uploads.over_declared() from None
        raise
    try:
        # Losing this row in a crash costs a resend, so its commit need not wait for the disk.
        answer = await ctx.run(
            partial(_record_put, key=key, stored=stored), touch=True, relaxed_commit=True
        )
    except Exception:
        # If even this fails (the session ended), the cleanup job removes the orphan later.
        with contextlib.suppress(PortalError):
            await ctx.run(partial(_forget_unheld, key))
        raise
    return JSONResponse(answer)


@endpoint(api=True)
def api_content_chunk(ctx: Ctx) -> Response:
    params = ctx.request.path_params
    row = policy.readable_version(
        ctx.db, ctx.require_account(), params["object_id"], params["version"]
    )
    part, index = policy.chunk_position(params["part"], params["index"])
    chunk = content.stored_chunk(ctx.db, row.object_id, row.version, part, index)
    if chunk is None:
        raise NotFound
    headers = {"Cache-Control": "no-store"}
    if chunk.data is not None:
        return Response(chunk.data, media_type=OCTETS, headers=headers)
    try:
        pieces = ctx.state.blobs.read_chunk(ChunkKey(row.object_id, row.version, part, index))
    except FileNotFoundError:
        # A row without its blob: the data folder was not restored with the database.
        log.error("missing blob for object %s version %s", row.object_id, row.version)
        raise NotFound from None
    headers["Content-Length"] = str(chunk.size)
    return StreamingResponse(pieces, media_type=OCTETS, headers=headers)
