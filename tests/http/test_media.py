"""Media messages over HTTP with real crypto: uploads, submit, reading, delete, cleanup.

Small limits for this module (set in ``settings_env``) keep the quota cases cheap: a message at
most 3 MiB, a case 5 MiB, the service 8 MiB. Every test runs on both blob stores, the data folder
and an S3 bucket (moto's server), through ``blob_store_env``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message as AsgiMessage

from portal import protocol
from portal.accounts.models import Role
from portal.app import create_app
from portal.blobstore import WRITE_BATCH, ChunkKey, open_blob_store
from portal.content import cleanup
from portal.content.models import (
    ContentChunk,
    ContentObject,
    ContentVersion,
    HeldChunk,
    PendingUpload,
)
from portal.db import utcnow
from portal.maintenance import run_cleanup
from portal.messages.models import Message
from portal.settings import Settings
from portal.web import Access, Ctx, endpoint
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal, SealedMessage
from tests.support.blobs import StoredBlobs
from tests.support.handling import note_handling_threads

MIB = 1024 * 1024
FULL = protocol.CHUNK_SIZE + 40
VIDEO = "video/webm;codecs=vp8,opus"


@pytest.fixture
def settings_env(settings_env: dict[str, str], blob_store_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        **blob_store_env,
        "PORTAL_MAX_MESSAGE_BYTES": str(3 * MIB),
        "PORTAL_CASE_QUOTA_BYTES": str(5 * MIB),
        "PORTAL_STORAGE_CAP_BYTES": str(8 * MIB),
    }


@pytest.fixture
def world(portal: Portal) -> CaseWorld:
    world = CaseWorld.build(portal)
    world.consent(world.responsible, ["letter", "audio", "video"])
    world.consent(world.harmed, ["letter", "video"])
    return world


def _recording(size: int = MIB + 5000) -> protocol.Part:
    return protocol.Part("recording", VIDEO, "", secrets.token_bytes(size))


def _blob_files(settings: Settings) -> list[str]:
    return StoredBlobs(settings).chunks()


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _sealed(world: CaseWorld, media: list[protocol.Part] | None = None) -> SealedMessage:
    return world.seal_media(world.responsible, "Hello.", media or [_recording()])


# ------------------------------------------------------------------------------------ uploads


def test_upload_starts_resumes_and_lists_what_is_held(world: CaseWorld) -> None:
    author = world.responsible
    sealed = _sealed(world)
    (part, index, first), second = sealed.uploaded()[0], sealed.uploaded()[1]
    started = _ok(author.start_upload(sealed.object_id, 1, sealed.uploaded_bytes))
    assert started == {"held": [], "max_chunk_bytes": FULL}
    put = _ok(author.put_chunk(sealed.object_id, 1, part, index, first))
    assert put == {
        "part": part,
        "index": index,
        "size": len(first),
        "hash": protocol.b64encode(protocol.chunk_hash(first)),
    }
    status = _ok(author.get(f"/api/uploads/{sealed.object_id}/1"))
    assert status == {"held": [put], "declared_bytes": sealed.uploaded_bytes}
    # Resuming: the start answers what is held, and the rest goes up.
    assert _ok(author.start_upload(sealed.object_id, 1, sealed.uploaded_bytes))["held"] == [put]
    assert _ok(author.put_chunk(sealed.object_id, 1, *second))["index"] == 1


def test_same_bytes_again_are_a_no_op_other_bytes_a_conflict(
    world: CaseWorld, settings: Settings
) -> None:
    author = world.responsible
    sealed = _sealed(world)
    part, index, chunk = sealed.uploaded()[0]
    _ok(author.start_upload(sealed.object_id, 1, sealed.uploaded_bytes))
    first = _ok(author.put_chunk(sealed.object_id, 1, part, index, chunk))
    assert _ok(author.put_chunk(sealed.object_id, 1, part, index, chunk)) == first
    other = author.put_chunk(sealed.object_id, 1, part, index, secrets.token_bytes(len(chunk)))
    assert other.status_code == 409
    assert "error" in other.json()
    assert len(_blob_files(settings)) == 1
    assert StoredBlobs(settings).incoming() == []


def test_more_than_declared_is_refused_and_not_kept(world: CaseWorld, settings: Settings) -> None:
    author = world.responsible
    sealed = _sealed(world)
    part, index, chunk = sealed.uploaded()[0]
    _ok(author.start_upload(sealed.object_id, 1, 1000))
    refused = author.put_chunk(sealed.object_id, 1, part, index, chunk)
    assert refused.status_code == 413
    assert "more than the upload said" in refused.json()["error"]
    assert _blob_files(settings) == []
    assert _ok(author.get(f"/api/uploads/{sealed.object_id}/1"))["held"] == []


def test_a_chunk_over_the_largest_size_is_refused(world: CaseWorld, settings: Settings) -> None:
    author = world.responsible
    object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
    _ok(author.start_upload(object_id, 1, 3 * MIB))
    too_big = author.put_chunk(object_id, 1, 1, 0, secrets.token_bytes(FULL + 1))
    assert too_big.status_code == 413
    assert "error" in too_big.json()
    assert _blob_files(settings) == []
    # Part 0 travels inline: it cannot be uploaded.
    assert author.put_chunk(object_id, 1, 0, 0, b"x" * 100).status_code == 404


def test_put_without_a_started_upload_is_404(world: CaseWorld) -> None:
    author = world.responsible
    object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
    assert author.put_chunk(object_id, 1, 1, 0, b"x" * 100).status_code == 404
    assert author.get(f"/api/uploads/{object_id}/1").status_code == 404
    assert author.start_upload(object_id, 2, 100).status_code == 404  # version 1 comes first


def test_put_needs_the_csrf_header(world: CaseWorld) -> None:
    author = world.responsible
    object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
    _ok(author.start_upload(object_id, 1, 1000))
    response = author.request(
        "PUT", f"/api/uploads/{object_id}/1/1/0", content=b"x" * 100, headers={}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("limit", "words"),
    [
        ("message", "a message can be at most 3 MB"),
        ("case", "a case can hold at most 5 MB"),
        ("service", "it can hold at most 8 MB"),
    ],
)
def test_quotas_are_checked_before_anything_is_sent(
    portal: Portal, world: CaseWorld, limit: str, words: str
) -> None:
    def start(w: CaseWorld, size: int) -> Any:
        object_id = _ok(w.responsible.post_json("/api/letters/objects"))["object_id"]
        return w.responsible.start_upload(object_id, 1, size)

    if limit == "message":
        refused = start(world, 3 * MIB + 1)
    elif limit == "case":
        _ok(start(world, 3 * MIB))
        refused = start(world, 3 * MIB)
    else:
        _ok(start(world, 3 * MIB))
        _ok(start(CaseWorld.build(portal), 3 * MIB))
        refused = start(CaseWorld.build(portal), 3 * MIB)
    assert refused.status_code == 413
    assert words in refused.json()["error"]
    assert "Nothing was uploaded." in refused.json()["error"]


def test_an_abandoned_upload_stops_reserving_room(portal: Portal, world: CaseWorld) -> None:
    """A declared size that never arrives holds the case's room for an hour, not for days."""
    author = world.responsible
    first = _ok(author.post_json("/api/letters/objects"))["object_id"]
    _ok(author.start_upload(first, 1, 3 * MIB))
    second = _ok(author.post_json("/api/letters/objects"))["object_id"]
    assert author.start_upload(second, 1, 3 * MIB).status_code == 413
    with portal.db() as db:
        db.execute(
            update(PendingUpload)
            .where(PendingUpload.object_id == first)
            .values(updated_at=utcnow() - timedelta(hours=2))
        )
        db.commit()
    _ok(author.start_upload(second, 1, 3 * MIB))


def test_inline_letters_and_drafts_count_towards_the_case(world: CaseWorld) -> None:
    author = world.responsible
    # Drafts fill the case (each 700 KB, as a long letter's draft is)...
    for _ in range(7):
        saved = author.request(
            "PUT",
            f"/api/drafts/{uuid.uuid4()}",
            json={"blob": protocol.b64encode(secrets.token_bytes(700 * 1024))},
            headers={"X-CSRF-Token": author.csrf()},
        )
        assert saved.status_code == 200, saved.text
    refused = author.request(
        "PUT",
        f"/api/drafts/{uuid.uuid4()}",
        json={"blob": protocol.b64encode(secrets.token_bytes(700 * 1024))},
        headers={"X-CSRF-Token": author.csrf()},
    )
    assert refused.status_code == 413
    assert "not enough room left in this case for this draft" in refused.json()["error"]
    # ...and then a letter sent inline no longer fits either: nothing of it is kept.
    object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
    sealed = author.seal_message(world.case_pk, object_id, 1, "x" * 600_000, [])
    sent = author.post_json(
        "/api/letters",
        {
            "letter": sealed.letter_json(),
            "recipient_participant_id": world.participant_id(world.harmed),
            "grant_to_case": protocol.b64encode(sealed.grant_to_case),
            "grant_to_author": protocol.b64encode(sealed.grant_to_author),
        },
    )
    assert sent.status_code == 413
    assert "for this message" in sent.json()["error"]


def test_cancel_removes_chunks_and_blobs(world: CaseWorld, settings: Settings) -> None:
    author = world.responsible
    sealed = _sealed(world)
    author.upload(sealed)
    assert len(_blob_files(settings)) == 2
    assert _ok(
        author.request(
            "DELETE", f"/api/uploads/{sealed.object_id}/1", headers={"X-CSRF-Token": author.csrf()}
        )
    ) == {"ok": True}
    assert _blob_files(settings) == []
    assert author.get(f"/api/uploads/{sealed.object_id}/1").status_code == 404


# ------------------------------------------------------------------- several chunks in one PUT


def _three_chunks(world: CaseWorld) -> tuple[SealedMessage, list[bytes]]:
    """A message whose recording is three chunks (two full, one short), upload started."""
    sealed = _sealed(world, [_recording(2 * MIB + 17)])
    chunks = [chunk for _part, _index, chunk in sealed.uploaded()]
    assert len(chunks) == 3
    _ok(world.responsible.start_upload(sealed.object_id, 1, sealed.uploaded_bytes))
    return sealed, chunks


def _held(world: CaseWorld, sealed: SealedMessage) -> list[tuple[int, int]]:
    held = _ok(world.responsible.get(f"/api/uploads/{sealed.object_id}/1"))["held"]
    return [(h["part"], h["index"]) for h in held]


def _entry(chunk: bytes, size: int | None = None) -> str:
    return (
        f"{len(chunk) if size is None else size}:{protocol.b64encode(protocol.chunk_hash(chunk))}"
    )


def test_one_put_holds_several_chunks(world: CaseWorld, settings: Settings) -> None:
    sealed, chunks = _three_chunks(world)
    answer = _ok(world.responsible.put_chunks(sealed.object_id, 1, 1, 0, chunks))
    assert answer == {
        "chunks": [
            {
                "part": 1,
                "index": i,
                "size": len(c),
                "hash": protocol.b64encode(protocol.chunk_hash(c)),
            }
            for i, c in enumerate(chunks)
        ]
    }
    assert _held(world, sealed) == [(1, 0), (1, 1), (1, 2)]
    assert len(_blob_files(settings)) == 3
    # The same batch again is a no-op; so is a batch starting with chunks already held.
    assert _ok(world.responsible.put_chunks(sealed.object_id, 1, 1, 0, chunks)) == answer
    assert world.submit_media(world.responsible, sealed, format_="video").status_code == 200


# Statements a PUT may run, whatever it carries: the two transactions' BEGIN on SQLite (on
# PostgreSQL, what makes the first read-only and the second's commit relaxed); the session (twice:
# it is checked again when recording); the upload's target with its held bytes (one statement);
# the batch's held rows; and in the recording transaction the upload locked, its held rows and
# bytes, and one INSERT for every new row. Not counted: SQLite's PRAGMAs, said only when a pooled
# connection's last transaction differed, and the session's last-seen time (at most every 5 s),
# which the clock decides.
STATEMENTS_PER_PUT = 10


def test_a_put_runs_a_few_statements_however_many_chunks_it_carries(world: CaseWorld) -> None:
    sealed, chunks = _three_chunks(world)
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("UPDATE sessions", "PRAGMA")):
            seen.append(statement)

    counts = []
    event.listen(Engine, "before_cursor_execute", count)
    try:
        for first, group in [(0, chunks[:1]), (1, chunks[1:])]:
            seen.clear()
            _ok(world.responsible.put_chunks(sealed.object_id, 1, 1, first, group))
            counts.append(len(seen))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert counts[0] == counts[1] <= STATEMENTS_PER_PUT, counts


def test_a_damaged_chunk_refuses_the_whole_batch(world: CaseWorld, settings: Settings) -> None:
    """Every chunk's hash is checked as it ends: one that does not match keeps nothing of the
    batch, not even the chunks before it, and leaves no file behind."""
    sealed, chunks = _three_chunks(world)
    listed = ",".join([_entry(chunks[0]), _entry(chunks[2], len(chunks[1])), _entry(chunks[2])])
    refused = world.responsible.put_chunks(sealed.object_id, 1, 1, 0, chunks, listed=listed)
    assert refused.status_code == 400
    assert "arrived damaged" in refused.json()["error"]
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []
    assert [p.name for p in settings.blobs_dir.rglob(".incoming-*")] == []
    # A boundary in the wrong place (sizes that add up, but not the chunks') is damage too.
    first, second = len(chunks[0]), len(chunks[1])
    moved = ",".join(
        [_entry(chunks[0], first - 1), _entry(chunks[1], second + 1), _entry(chunks[2])]
    )
    refused = world.responsible.put_chunks(sealed.object_id, 1, 1, 0, chunks, listed=moved)
    assert refused.status_code == 400
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []


@pytest.mark.parametrize(
    "listed",
    [
        "",
        "x",
        "1048616",
        "1048616:",
        "1048616:" + "A" * 42,
        "39:" + "A" * 43,  # smaller than a nonce and a tag
        f"{FULL + 1}:" + "A" * 43,  # larger than a chunk
        ",".join(["100:" + "A" * 43] * 17),  # more than a batch
        "100:" + "A" * 43 + ";100:" + "A" * 43,
        "\u00b9\u00b2:" + "A" * 43,
    ],
)
def test_an_unreadable_chunk_list_is_refused_before_anything_is_read(
    world: CaseWorld, settings: Settings, listed: str
) -> None:
    sealed, chunks = _three_chunks(world)
    try:
        refused = world.responsible.put_chunks(sealed.object_id, 1, 1, 0, chunks, listed=listed)
    except UnicodeEncodeError:
        return  # not a header an HTTP client can send at all
    assert refused.status_code == 400
    assert "could not be read" in refused.json()["error"]
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []


def test_a_body_longer_or_shorter_than_listed_is_refused(
    world: CaseWorld, settings: Settings
) -> None:
    sealed, chunks = _three_chunks(world)
    author = world.responsible
    listed = ",".join(_entry(c) for c in chunks)
    longer = author.put_chunks(sealed.object_id, 1, 1, 0, chunks, body=b"".join(chunks) + b"x")
    assert longer.status_code == 400
    shorter = author.put_chunks(
        sealed.object_id, 1, 1, 0, chunks[:2], listed=listed
    )  # Content-Length says so before anything is read
    assert shorter.status_code == 400
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []


def test_a_batch_cut_short_keeps_nothing_and_is_sent_again(
    world: CaseWorld, settings: Settings
) -> None:
    """A connection lost mid-batch: the body ends (no Content-Length, so the server learns it
    only then) after two of three chunks. Nothing of it is held; resending it works, as does
    resuming after chunks held from earlier PUTs."""
    sealed, chunks = _three_chunks(world)
    author = world.responsible

    def two_of_three() -> Iterator[bytes]:
        yield chunks[0]
        yield chunks[1]

    cut = author.put_chunks(sealed.object_id, 1, 1, 0, chunks, body=two_of_three())
    assert cut.status_code == 400
    assert "ended before all its pieces arrived" in cut.json()["error"]
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []
    # Resuming: chunk 0 arrives alone, then a batch of all three sends only what is missing.
    _ok(author.put_chunk(sealed.object_id, 1, 1, 0, chunks[0]))
    _ok(author.put_chunks(sealed.object_id, 1, 1, 0, chunks))
    assert _held(world, sealed) == [(1, 0), (1, 1), (1, 2)]
    assert world.submit_media(author, sealed, format_="video").status_code == 200


def test_a_batch_with_other_bytes_for_a_held_chunk_is_a_conflict(
    world: CaseWorld, settings: Settings
) -> None:
    sealed, chunks = _three_chunks(world)
    author = world.responsible
    _ok(author.put_chunk(sealed.object_id, 1, 1, 1, chunks[1]))
    other = [chunks[0], secrets.token_bytes(len(chunks[1])), chunks[2]]
    refused = author.put_chunks(sealed.object_id, 1, 1, 0, other)
    assert refused.status_code == 409
    assert _held(world, sealed) == [(1, 1)]
    assert len(_blob_files(settings)) == 1


@pytest.mark.parametrize("batched", [False, True], ids=["one-chunk PUTs", "one batch"])
def test_a_chunk_a_crash_left_unheld_is_replaced_when_sent_again(
    world: CaseWorld, settings: Settings, batched: bool
) -> None:
    """A crash between a chunk's write and its row leaves bytes no row names; the browser seals
    that chunk again (a fresh nonce: other bytes). Sending it replaces them at once, rather than
    a 409 until the cleanup job has run."""
    sealed, chunks = _three_chunks(world)
    author, stored = world.responsible, StoredBlobs(settings)
    orphan = ChunkKey(sealed.object_id, 1, 1, 1)
    stored.plant(orphan, secrets.token_bytes(len(chunks[1])))
    if batched:
        _ok(author.put_chunks(sealed.object_id, 1, 1, 0, chunks))
    else:
        for index, chunk in enumerate(chunks):
            _ok(author.put_chunk(sealed.object_id, 1, 1, index, chunk))
    assert _held(world, sealed) == [(1, 0), (1, 1), (1, 2)]
    assert stored.read(orphan) == chunks[1]
    assert stored.incoming() == []
    assert world.submit_media(author, sealed, format_="video").status_code == 200


def test_an_unheld_chunk_is_replaced_only_by_checked_bytes(
    world: CaseWorld, settings: Settings
) -> None:
    """The bytes replacing an orphan are the ones whose size and hash were checked: a damaged
    resend leaves the orphan as it was and holds nothing, and a held chunk is never replaced."""
    sealed, chunks = _three_chunks(world)
    author, stored = world.responsible, StoredBlobs(settings)
    orphan, planted = ChunkKey(sealed.object_id, 1, 1, 1), secrets.token_bytes(len(chunks[1]))
    stored.plant(orphan, planted)
    listed = ",".join([_entry(chunks[0]), _entry(chunks[2], len(chunks[1])), _entry(chunks[2])])
    refused = author.put_chunks(sealed.object_id, 1, 1, 0, chunks, listed=listed)
    assert refused.status_code == 400
    assert _held(world, sealed) == []
    assert stored.read(orphan) == planted
    assert stored.incoming() == []
    # Held with these bytes now: other bytes for it are a conflict, and change nothing.
    _ok(author.put_chunk(sealed.object_id, 1, 1, 1, chunks[1]))
    assert author.put_chunk(sealed.object_id, 1, 1, 1, planted).status_code == 409
    assert stored.read(orphan) == chunks[1]
    assert stored.incoming() == []


def test_a_batch_over_what_was_declared_is_refused(world: CaseWorld, settings: Settings) -> None:
    sealed = _sealed(world, [_recording(2 * MIB + 17)])
    chunks = [chunk for _part, _index, chunk in sealed.uploaded()]
    author = world.responsible
    _ok(author.start_upload(sealed.object_id, 1, 2 * FULL))  # room for two of the three
    refused = author.put_chunks(sealed.object_id, 1, 1, 0, chunks)
    assert refused.status_code == 413
    assert "more than the upload said" in refused.json()["error"]
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []
    _ok(author.put_chunks(sealed.object_id, 1, 1, 0, chunks[:2]))


def test_a_batch_is_refused_to_everyone_but_the_author(
    world: CaseWorld, portal: Portal, settings: Settings
) -> None:
    sealed, chunks = _three_chunks(world)
    other = CaseWorld.build(portal)
    # The case's facilitator too: facilitators upload only into letters they entered for
    # someone without access (test_entered.py), and this one is the author's.
    for person in [world.harmed, other.responsible, world.facilitator]:
        assert person.put_chunks(sealed.object_id, 1, 1, 0, chunks).status_code == 404
    assert portal.visitor().put_chunks(sealed.object_id, 1, 1, 0, chunks).status_code in {
        401,
        403,
    }
    # Part 0 travels inline, and a batch may not run past the last index.
    assert world.responsible.put_chunks(sealed.object_id, 1, 0, 0, chunks).status_code == 404
    assert _held(world, sealed) == []
    assert _blob_files(settings) == []


# ---------------------------------------------------------------------------------- submitting


def test_media_message_reaches_the_recipient_only_after_opening(
    world: CaseWorld, portal: Portal
) -> None:
    recording = _recording(2 * MIB + 17)  # three chunks: two full, one short
    page = protocol.Part("page", "image/png", "scan-1.png", secrets.token_bytes(3000))
    sealed = world.seal_media(world.responsible, "A few words.", [recording, page])
    world.responsible.upload(sealed)
    submitted = world.submit_media(
        world.responsible, sealed, format_="video", length={"seconds": 185, "pages": 1}
    )
    message_id = _ok(submitted)["message_id"]
    with portal.db() as db:
        stored = db.scalars(
            select(ContentChunk).where(ContentChunk.object_id == sealed.object_id)
        ).all()
        assert sorted((c.part, c.data is None) for c in stored) == [
            (0, False),
            (1, True),
            (1, True),
            (1, True),
            (2, True),
        ]
        assert db.scalar(select(func.count()).select_from(PendingUpload)) == 0
        assert db.scalar(select(func.count()).select_from(HeldChunk)) == 0

    # The author reads their own message back, uploaded parts included.
    mine = _ok(world.responsible.get(f"/api/letters/{message_id}"))
    assert [e["inline"] for e in mine["layout"]] == [True, False, False, False, False]
    assert mine["chunk_url"] == f"/api/content/{sealed.object_id}/1/"
    parts = world.responsible.open_sealed(
        world.responsible.secret_key,
        world.responsible.public_key,
        mine,
        protocol.b64decode(mine["grant"]),
    )
    assert [p.data for p in parts[1:]] == [recording.data, page.data]

    # The facilitator reviews it (reading every chunk) and approves it with a transcript.
    item, text = world.review(message_id)
    assert text == "A few words."
    assert (item["format"], item["length"]) == ("video", {"seconds": 185, "pages": 1})
    approved = world.approve(
        message_id, transcript="Hello, in words.", transcript_label="translation"
    )
    assert approved.status_code == 200, approved.text

    stored_url = f"{mine['chunk_url']}1/0"
    assert world.harmed.get(stored_url).status_code == 404  # not opened yet
    note = _ok(world.harmed.get(f"/api/inbox/{message_id}/note"))
    assert (note["format"], note["length"], note["size_hint"]) == (
        "video",
        {"seconds": 185, "pages": 1},
        "about 3 minutes",
    )
    released, opened = world.open_media(world.harmed, message_id)
    assert [p.data for p in opened] == [b"A few words.", recording.data, page.data]
    assert opened[2].name == "scan-1.png"
    assert released["transcript_label"] == "translation"
    assert world.open_note(world.harmed, released["transcript"]) == "Hello, in words."
    response = world.harmed.get(stored_url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("tamper", ["altered", "swapped"])
def test_chunk_changed_in_the_store_is_caught_when_read(
    world: CaseWorld, settings: Settings, tamper: str
) -> None:
    """The server hands out what its store holds; a chunk changed there (a breached disk or
    bucket) fails the reader's check against the signed manifest, before any decryption."""
    recording = _recording(MIB + 5000)  # two chunks
    message_id = world.write_media_message(world.responsible, "Hi.", [recording])
    assert world.approve(message_id).status_code == 200
    object_id = _ok(world.responsible.get(f"/api/letters/{message_id}"))["object_id"]
    stored = StoredBlobs(settings)
    first, second = ChunkKey(object_id, 1, 1, 0), ChunkKey(object_id, 1, 1, 1)
    if tamper == "altered":
        data = bytearray(stored.read(first))
        data[len(data) // 2] ^= 0x01
        stored.overwrite(first, bytes(data))
    else:
        a, b = stored.read(first), stored.read(second)
        stored.overwrite(first, b)
        stored.overwrite(second, a)
    with pytest.raises(protocol.DecryptionFailed, match="chunk does not match the manifest"):
        world.open_media(world.harmed, message_id)


def test_a_chunk_missing_from_the_store_is_404_not_500(
    world: CaseWorld, settings: Settings
) -> None:
    """A row whose chunk the store does not have (a backup restored without its blobs)."""
    message_id = world.write_media_message(world.responsible, "Hi.", [_recording(1000)])
    object_id = _ok(world.responsible.get(f"/api/letters/{message_id}"))["object_id"]
    url = f"/api/content/{object_id}/1/1/0"
    assert world.responsible.get(url).status_code == 200
    StoredBlobs(settings).remove(ChunkKey(object_id, 1, 1, 0))
    missing = world.responsible.get(url)
    assert missing.status_code == 404
    assert "error" in missing.json()


def test_chunks_are_refused_to_everyone_else(world: CaseWorld, portal: Portal) -> None:
    message_id = world.write_media_message(world.responsible, "Hi.", [_recording(1000)])
    object_id = _ok(world.responsible.get(f"/api/letters/{message_id}"))["object_id"]
    url = f"/api/content/{object_id}/1/1/0"
    other = CaseWorld.build(portal)
    assert world.responsible.get(url).status_code == 200
    assert world.facilitator.get(url).status_code == 200
    for person in [world.harmed, other.facilitator, other.responsible, portal.visitor()]:
        assert person.get(url).status_code in {401, 404}
    assert world.responsible.get(f"/api/content/{object_id}/1/1/1").status_code == 404
    assert world.responsible.get(f"/api/content/{object_id}/2/1/0").status_code == 404
    assert world.responsible.get(f"/api/content/{object_id}/x/1/0").status_code == 404


# ------------------------------------------------------------------- several chunks in one GET


def _three_chunks_under_review(world: CaseWorld) -> tuple[str, str]:
    """A media message under review whose recording is three chunks: (message id, its part's
    chunk address)."""
    message_id = world.write_media_message(world.responsible, "Hi.", [_recording(2 * MIB + 17)])
    object_id = _ok(world.responsible.get(f"/api/letters/{message_id}"))["object_id"]
    return message_id, f"/api/content/{object_id}/1/1/"


def test_several_chunks_in_one_get_are_the_stored_chunks_joined(world: CaseWorld) -> None:
    _message_id, part = _three_chunks_under_review(world)
    reader = world.responsible
    one_by_one = [reader.get(f"{part}{index}").content for index in range(3)]
    assert [len(chunk) for chunk in one_by_one] == [FULL, FULL, 17 + 40]
    for first, count in [(0, 3), (1, 2), (2, 1), (0, 1)]:
        answer = reader.get(f"{part}{first}?count={count}")
        assert answer.status_code == 200, answer.text
        wanted = one_by_one[first : first + count]
        assert answer.content == b"".join(wanted)
        assert answer.headers["x-chunks"] == ",".join(str(len(chunk)) for chunk in wanted)
        assert answer.headers["content-length"] == str(sum(len(chunk) for chunk in wanted))
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["content-type"] == "application/octet-stream"
    # The written letter (part 0, inline in the database) comes the same way.
    letter = reader.get(part.replace("/1/1/", "/1/0/") + "0?count=1")
    assert letter.status_code == 200
    assert letter.headers["x-chunks"] == str(len(letter.content))


def test_a_chunk_is_read_in_a_thread_and_a_page_on_the_event_loop(
    world: CaseWorld, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk's GET waits on the blob store, which may be an object store over the network, so
    it runs in a thread (``endpoint(threads=True)``); a page runs on the event loop (on
    PostgreSQL in a greenlet waiting there for the server: portal/loop_reads.py). On both
    databases."""
    _message_id, part = _three_chunks_under_review(world)
    noted = note_handling_threads(client, monkeypatch)
    reader = world.responsible
    assert reader.get(f"{part}0").status_code == 200
    assert reader.get(f"{part}0?count=3").status_code == 200
    assert reader.get("/account").status_code == 200
    assert noted.loop not in noted.by_path[f"{part}0"]
    assert noted.by_path["/account"] == {noted.loop}


def test_a_reading_handler_on_the_event_loop_may_not_wait_on_the_blob_store(
    settings: Settings,
) -> None:
    """Were a reading endpoint to use the blob store without ``threads=True``, its handler
    would run on the event loop and the store's wait would stop every other request: the store
    refuses it (blobstore.off_the_loop), so that request fails, and with it any test that
    reaches it; the same handler with ``threads=True`` answers. On both databases and both
    blob stores."""
    key = ChunkKey(str(uuid.uuid4()), 1, 0, 0)

    def looks_up(ctx: Ctx) -> Response:
        return PlainTextResponse(str(ctx.state.blobs.stored_size(key)))

    app = create_app(settings)
    app.router.routes[:0] = [
        Route("/probe/on-the-loop", endpoint(Access.PUBLIC)(looks_up)),
        Route("/probe/in-a-thread", endpoint(Access.PUBLIC, threads=True)(looks_up)),
    ]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/probe/in-a-thread").text == "None"
        assert client.get("/probe/on-the-loop").status_code == 500
        assert client.get("/probe/in-a-thread").text == "None"  # the loop serves on


def test_a_get_of_chunks_past_the_last_sends_nothing(world: CaseWorld) -> None:
    _message_id, part = _three_chunks_under_review(world)
    for path in [f"{part}0?count=4", f"{part}2?count=2", f"{part}3?count=1"]:
        answer = world.responsible.get(path)
        assert answer.status_code == 404, path
        assert "x-chunks" not in answer.headers


def test_an_unreadable_count_is_refused_in_words(world: CaseWorld) -> None:
    _message_id, part = _three_chunks_under_review(world)
    for count in ["0", "33", "x", "-1", "", "1.5", "\u0663", "01" * 5, "032"]:
        answer = world.responsible.get(f"{part}0", params={"count": count})
        assert answer.status_code == 400, count
        assert answer.json()["field"] == "count"
    # Authorised first: someone who may not read it learns nothing from a bad count.
    assert world.harmed.get(f"{part}0", params={"count": "x"}).status_code == 404


def test_several_chunks_are_refused_to_exactly_those_one_is_refused_to(
    world: CaseWorld, portal: Portal
) -> None:
    """The batch GET decides who may read as the one-chunk GET does (media.policy): before
    release the recipient, anyone of another case, a supporter, a visitor are refused; after
    opening the recipient may read; after withdrawing, each side gets from a batch what it gets
    from one chunk."""
    message_id, part = _three_chunks_under_review(world)
    other = CaseWorld.build(portal)
    supporter = portal.person(Role.SUPPORTER)

    def answers(person: Person) -> tuple[int, int]:
        return (
            person.get(f"{part}0").status_code,
            person.get(f"{part}0?count=3").status_code,
        )

    for person in [world.responsible, world.facilitator]:
        assert answers(person) == (200, 200)
    refused = [world.harmed, other.facilitator, other.responsible, supporter, portal.visitor()]
    for person in refused:
        single, batch = answers(person)
        assert single in {401, 404}
        assert batch == single
    assert world.approve(message_id).status_code == 200
    assert answers(world.harmed) == (404, 404)  # released, not opened yet
    world.open_media(world.harmed, message_id)
    assert answers(world.harmed) == (200, 200)
    for person in [world.harmed, world.responsible]:
        assert person.post_json("/api/withdraw").status_code == 200
        single, batch = answers(person)
        assert batch == single
    for person in refused[1:]:
        single, batch = answers(person)
        assert single in {401, 404}
        assert batch == single


def test_a_chunk_missing_from_the_store_in_a_batch_is_404_not_a_cut_answer(
    world: CaseWorld, settings: Settings
) -> None:
    _message_id, part = _three_chunks_under_review(world)
    object_id = part.split("/")[3]
    StoredBlobs(settings).remove(ChunkKey(object_id, 1, 1, 1))
    assert world.responsible.get(f"{part}0?count=1").status_code == 200
    for path in [f"{part}0?count=3", f"{part}1?count=2"]:
        missing = world.responsible.get(path)
        assert missing.status_code == 404
        assert "error" in missing.json()


def _nothing_saved(portal: Portal, object_id: str) -> None:
    with portal.db() as db:
        assert db.get(ContentVersion, (object_id, 1)) is None
        assert db.scalars(select(Message).where(Message.object_id == object_id)).first() is None
        # The upload is still there to fix and resend.
        assert db.get(PendingUpload, (object_id, 1)) is not None


def test_wrong_hash_or_missing_chunk_saves_nothing(world: CaseWorld, portal: Portal) -> None:
    sealed = _sealed(world)
    world.responsible.upload(sealed)
    body = sealed.letter_json()
    body["stored_chunks"][0]["hash"] = protocol.b64encode(b"\0" * 32)
    me = _ok(world.responsible.get("/api/me/case"))
    request = {
        "recipient_participant_id": me["recipients"][0]["participant_id"],
        "letter": body,
        "grant_to_case": protocol.b64encode(sealed.grant_to_case),
        "grant_to_author": protocol.b64encode(sealed.grant_to_author),
        "format": "video",
    }
    wrong = world.responsible.post_json("/api/letters", request)
    assert wrong.status_code == 400
    assert "Nothing was saved" in wrong.json()["error"]
    _nothing_saved(portal, sealed.object_id)

    request["letter"] = sealed.letter_json()
    request["letter"]["stored_chunks"].append(
        {**request["letter"]["stored_chunks"][-1], "index": 2}
    )
    request["letter"]["stored_chunks"][-2]["final"] = False
    missing = world.responsible.post_json("/api/letters", request)
    assert missing.status_code == 400
    _nothing_saved(portal, sealed.object_id)

    request["letter"] = sealed.letter_json()
    request["letter"]["stored_chunks"] = request["letter"]["stored_chunks"][1:]  # a gap
    assert world.responsible.post_json("/api/letters", request).status_code == 400
    _nothing_saved(portal, sealed.object_id)

    for odd in [None, 5, "x", [5], [{"part": 1}], {"a": 1}]:
        request["letter"] = {**sealed.letter_json(), "stored_chunks": odd}
        if odd is None:
            continue
        assert world.responsible.post_json("/api/letters", request).status_code == 400
    request["letter"] = sealed.letter_json()
    assert world.responsible.post_json("/api/letters", {**request, "length": 5}).status_code == 400
    assert (
        world.responsible.post_json("/api/letters", {**request, "format": "hologram"}).status_code
        == 400
    )
    _nothing_saved(portal, sealed.object_id)
    assert world.responsible.post_json("/api/letters", request).status_code == 200


def test_chunk_lost_in_a_crash_is_found_at_submit_and_sent_again(
    world: CaseWorld, portal: Portal, settings: Settings
) -> None:
    """A held chunk's name is made durable only at submit; one a crash took is found missing
    there: the submit is refused, saves nothing, and the browser sends just that chunk again."""
    sealed = _sealed(world)
    world.responsible.upload(sealed)
    lost, stored = ChunkKey(sealed.object_id, 1, 1, 1), StoredBlobs(settings)
    stored.remove(lost)
    me = _ok(world.responsible.get("/api/me/case"))
    request = {
        "recipient_participant_id": me["recipients"][0]["participant_id"],
        "letter": sealed.letter_json(),
        "grant_to_case": protocol.b64encode(sealed.grant_to_case),
        "grant_to_author": protocol.b64encode(sealed.grant_to_author),
        "format": "video",
    }
    refused = world.responsible.post_json("/api/letters", request)
    assert refused.status_code == 400
    assert "has to be sent again" in refused.json()["error"]
    _nothing_saved(portal, sealed.object_id)
    held = _ok(world.responsible.get(f"/api/uploads/{sealed.object_id}/1"))["held"]
    assert sorted((h["part"], h["index"]) for h in held) == [(1, 0)]

    world.responsible.upload(sealed)  # resumes: sends chunk 1 only
    assert stored.exists(lost)
    assert world.responsible.post_json("/api/letters", request).status_code == 200


def test_both_sides_must_consent_to_the_format(world: CaseWorld, portal: Portal) -> None:
    me = _ok(world.responsible.get("/api/me/case"))
    assert me["accepted_formats"] == ["audio", "letter", "video"]
    assert me["recipients"][0]["accepted_formats"] == ["letter", "video"]
    sealed = world.seal_media(
        world.responsible, "", [protocol.Part("recording", "audio/webm", "", b"x" * 500)]
    )
    world.responsible.upload(sealed)
    refused = world.submit_media(world.responsible, sealed, format_="audio")
    assert refused.status_code == 409
    assert "not agreed to receive" in refused.json()["error"]
    _nothing_saved(portal, sealed.object_id)
    world.consent(world.responsible, ["letter"])
    refused = world.submit_media(world.responsible, sealed, format_="video")
    assert refused.status_code == 409
    assert "You have not agreed" in refused.json()["error"]


def test_a_returned_message_is_revised_with_a_new_upload(world: CaseWorld) -> None:
    message_id = world.write_media_message(world.responsible, "One.", [_recording(1000)])
    assert world.return_with_feedback(message_id, "Shorter, please.").status_code == 200
    object_id = _ok(world.responsible.get(f"/api/letters/{message_id}"))["object_id"]
    # Version 1 was sent: only version 2 can be uploaded now.
    assert world.responsible.start_upload(object_id, 1, 100).status_code == 404
    second = _recording(700)
    sealed = world.seal_media(world.responsible, "Two.", [second], object_id=object_id, version=2)
    world.responsible.upload(sealed)
    revised = world.responsible.post_json(
        f"/api/letters/{message_id}/revise",
        {
            "letter": sealed.letter_json(),
            "grant_to_case": protocol.b64encode(sealed.grant_to_case),
            "grant_to_author": protocol.b64encode(sealed.grant_to_author),
            "format": "video",
            "length": {"seconds": 30},
        },
    )
    assert revised.status_code == 200, revised.text
    item, text = world.review(message_id)
    assert (item["version"], text, item["length"]) == (2, "Two.", {"seconds": 30})
    # Once submitted, the version takes no more chunks.
    assert world.responsible.put_chunk(object_id, 2, 1, 0, b"x" * 100).status_code == 404


# ---------------------------------------------------------------------------- deleting, cleanup


def test_delete_removes_every_version_and_its_blobs(
    world: CaseWorld, settings: Settings, portal: Portal
) -> None:
    message_id = world.write_media_message(world.responsible, "Hi.", [_recording()])
    assert len(_blob_files(settings)) == 2
    early = world.responsible.post_json(f"/api/letters/{message_id}/delete")
    assert early.status_code == 409
    assert len(_blob_files(settings)) == 2
    _ok(world.responsible.post_json(f"/api/letters/{message_id}/withdraw"))
    assert world.harmed.post_json(f"/api/letters/{message_id}/delete").status_code == 404
    deleted = _ok(world.responsible.post_json(f"/api/letters/{message_id}/delete"))
    assert deleted == {"state": "withdrawn", "content_deleted": True}
    assert _blob_files(settings) == []
    mine = _ok(world.responsible.get(f"/api/letters/{message_id}"))
    assert mine["content_deleted"] is True
    assert "manifest" not in mine
    assert _ok(world.facilitator.get(f"/api/messages/{message_id}/review"))["content_deleted"]
    with portal.db() as db:
        object_id = mine["object_id"]
        assert (
            db.scalars(select(ContentChunk).where(ContentChunk.object_id == object_id)).all() == []
        )
        message = db.get(Message, message_id)
        assert message is not None
        assert message.content_deleted_at is not None
    assert "Withdrawn" in world.responsible.get(f"/letters/{message_id}").text


def test_cleanup_removes_expired_uploads_unused_ids_and_orphans(
    world: CaseWorld, settings: Settings, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    expired = _sealed(world)
    world.responsible.upload(expired)
    fresh = _sealed(world)
    world.responsible.upload(fresh)
    sent = world.write_media_message(world.responsible, "Kept.", [_recording(1000)])
    unused = _ok(world.responsible.post_json("/api/letters/objects"))["object_id"]
    long_ago = utcnow() - timedelta(hours=settings.upload_expiry_hours + 1)
    with portal.db() as db:
        db.execute(
            update(PendingUpload)
            .where(PendingUpload.object_id == expired.object_id)
            .values(updated_at=long_ago)
        )
        db.execute(
            update(ContentObject)
            .where(ContentObject.id.in_([unused, expired.object_id]))
            .values(created_at=long_ago)
        )
        db.commit()
    # An orphan: a chunk no row points at (a crash between the write and the row), 2 hours old.
    stored = StoredBlobs(settings)
    orphan = ChunkKey("0" * 8 + "-0000-4000-8000-" + "0" * 12, 1, 1, 0)
    stored.plant(orphan, b"x" * 100, age_seconds=2 * 3600)
    if stored.is_s3:
        # A bucket dates its objects itself, so the orphan cannot be made old: no grace here
        # (and a minute's leeway for the two clocks). The rows still protect everything else.
        monkeypatch.setattr(cleanup, "ORPHAN_GRACE_SECONDS", -60.0)
    store = open_blob_store(settings)
    before = len(_blob_files(settings))

    report = run_cleanup(portal.sessions, store, settings)

    assert (report.expired_uploads, report.unused_objects, report.orphan_versions) == (1, 2, 1)
    assert len(_blob_files(settings)) == before - 3  # two expired chunks and the orphan
    with portal.db() as db:
        assert db.get(PendingUpload, (expired.object_id, 1)) is None
        assert db.get(PendingUpload, (fresh.object_id, 1)) is not None
        assert db.get(ContentObject, unused) is None
    _item, text = world.review(sent)
    assert text == "Kept."
    assert _ok(world.responsible.get(f"/api/uploads/{fresh.object_id}/1"))["held"]


# ------------------------------------------------------------------------------- streaming PUT


# The filesystem store only: an S3 PUT needs its length first, so that store gathers the chunk
# (at most 1 MiB + 40 bytes) before sending it (portal/blobstore_s3.py).
@pytest.mark.parametrize("blob_store_env", ["filesystem"], indirect=True)
def test_put_streams_pieces_to_disk_as_they_arrive(
    world: CaseWorld, client: TestClient, settings: Settings
) -> None:
    """The chunk is never held whole: each piece is on disk before the next is received."""
    author = world.responsible
    object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
    _ok(author.start_upload(object_id, 1, FULL))
    chunk = secrets.token_bytes(FULL)
    piece = 64 * 1024
    pieces = [chunk[i : i + piece] for i in range(0, len(chunk), piece)]
    seen: list[tuple[int, int]] = []  # (bytes sent so far, bytes in the temporary file)
    path = f"/api/uploads/{object_id}/1/1/0"
    cookie = "; ".join(f"{name}={author.jar[name]}" for name in author.jar)
    headers = [
        (b"host", b"testserver"),
        (b"cookie", cookie.encode()),
        (b"x-csrf-token", author.csrf().encode()),
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(len(chunk)).encode()),
    ]
    answer: list[AsgiMessage] = []

    async def call() -> None:
        sent = 0

        async def receive() -> AsgiMessage:
            nonlocal sent
            on_disk = sum(p.stat().st_size for p in settings.blobs_dir.rglob(".incoming-*"))
            seen.append((sent, on_disk))
            if sent >= len(chunk):
                return {"type": "http.disconnect"}
            body = pieces[sent // piece]
            sent += len(body)
            return {"type": "http.request", "body": body, "more_body": sent < len(chunk)}

        async def send(message: AsgiMessage) -> None:
            answer.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "PUT",
            "scheme": "http",
            "server": ("testserver", 80),
            "client": ("testclient", 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
        }
        await client.app(scope, receive, send)

    assert client.portal is not None
    client.portal.call(call)
    assert answer[0]["status"] == 200, answer
    # Pieces are written in batches as they come: never more than one batch behind, which is
    # a fraction of the chunk.
    behind = [sent - on_disk for sent, on_disk in seen[1 : len(pieces)]]
    assert len(behind) == len(pieces) - 1
    assert max(behind) <= WRITE_BATCH
    assert len(chunk) // 2 >= WRITE_BATCH
    # and the file grows while the body is still arriving.
    assert any(on_disk >= WRITE_BATCH for _sent, on_disk in seen[: len(pieces) - 1])
