"""The blob stores: atomic, idempotent, streamed chunks, in the data folder and in an S3 bucket
(moto's server): every test runs on both unless it says otherwise."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from portal import protocol
from portal.blobstore import (
    BlobOnTheLoop,
    BlobStore,
    BlobStoreError,
    ChunkConflict,
    ChunkKey,
    ChunkTooLarge,
    FilesystemBlobStore,
    ReceivedChunk,
    StoredChunk,
    open_blob_store,
    waits_refused,
)
from portal.settings import Settings
from tests.support.blobs import StoredBlobs

PIECE = 64 * 1024


async def _pieces(data: bytes, *, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), PIECE):
        if fail_after is not None and offset >= fail_after:
            raise ConnectionResetError("the browser went away")
        yield data[offset : offset + PIECE]


@pytest.fixture
def settings(tmp_path: Path, blob_store_env: dict[str, str]) -> Settings:
    return Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path / "data"), **blob_store_env})


@pytest.fixture
def store(settings: Settings) -> BlobStore:
    return open_blob_store(settings)


@pytest.fixture
def stored(settings: Settings) -> StoredBlobs:
    return StoredBlobs(settings)


def _write(store: BlobStore, key: ChunkKey, data: bytes, **kwargs: int) -> StoredChunk:
    fail_after = kwargs.pop("fail_after", None)

    async def run() -> StoredChunk:
        return await store.write_chunk(key, _pieces(data, fail_after=fail_after), **kwargs)

    # An event loop of its own, in its own thread: the browser tests' Playwright keeps one
    # running in the main thread for the whole session.
    with start_blocking_portal() as portal:
        return portal.call(run)


def _key(chunk: int = 0) -> ChunkKey:
    return ChunkKey(str(uuid.uuid4()), 1, 0, chunk)


def _leftovers(stored: StoredBlobs) -> list[str]:
    """Everything the store holds: chunks, and half-written ones."""
    return stored.chunks() + stored.incoming()


def test_written_chunk_reads_back_with_the_protocol_hash(store: BlobStore) -> None:
    data = secrets.token_bytes(protocol.CHUNK_SIZE + 40)
    key = _key()
    stored = _write(store, key, data, max_size=protocol.CHUNK_SIZE + 40)
    assert stored == StoredChunk(len(data), protocol.chunk_hash(data))
    assert b"".join(store.read_chunk(key)) == data
    assert store.chunk_info(key) == stored


def test_same_bytes_again_is_a_no_op(store: BlobStore, stored: StoredBlobs) -> None:
    key, data = _key(), secrets.token_bytes(1000)
    first = _write(store, key, data, max_size=2000)
    assert _write(store, key, data, max_size=2000) == first
    assert len(_leftovers(stored)) == 1


def _conflict(store: BlobStore, key: ChunkKey, data: bytes) -> ReceivedChunk:
    with pytest.raises(ChunkConflict) as refused:
        _write(store, key, data, max_size=len(data))
    assert refused.value.received is not None
    return refused.value.received


def test_other_bytes_for_a_stored_chunk_are_refused(store: BlobStore, stored: StoredBlobs) -> None:
    key = _key()
    _write(store, key, b"a" * 100, max_size=200)
    received = _conflict(store, key, b"b" * 100)
    # Kept aside, hashed, for the caller to decide; the stored bytes are untouched.
    assert received.key == key
    assert received.stored == StoredChunk(100, protocol.chunk_hash(b"b" * 100))
    assert b"".join(store.read_chunk(key)) == b"a" * 100
    store.discard(received)
    assert len(_leftovers(stored)) == 1
    assert b"".join(store.read_chunk(key)) == b"a" * 100


def test_bytes_kept_aside_replace_an_orphan(store: BlobStore, stored: StoredBlobs) -> None:
    """A crash left a chunk no row names: the resent chunk's bytes, kept aside when they met
    it, take its place (media.views decides when, with the upload locked)."""
    key = _key()
    orphan, resent = secrets.token_bytes(3 * PIECE), secrets.token_bytes(3 * PIECE + 7)
    _write(store, key, orphan, max_size=len(orphan))
    received = _conflict(store, key, resent)
    store.replace_chunk(received)
    store.discard(received)  # a no-op once replaced
    assert b"".join(store.read_chunk(key)) == resent
    assert store.chunk_info(key) == StoredChunk(len(resent), protocol.chunk_hash(resent))
    assert len(_leftovers(stored)) == 1


def _race(store: BlobStore, key: ChunkKey, contenders: list[bytes]) -> list[object]:
    """Write each of ``contenders`` to ``key`` at once: what each write returned or raised."""
    outcomes: list[object] = []

    async def write(data: bytes) -> None:
        try:
            outcomes.append(await store.write_chunk(key, _pieces(data), max_size=len(data)))
        except BlobStoreError as refused:
            outcomes.append(refused)
            if isinstance(refused, ChunkConflict) and refused.received is not None:
                store.discard(refused.received)

    async def race() -> None:
        async with anyio.create_task_group() as group:
            for data in contenders:
                group.start_soon(write, data)

    with start_blocking_portal() as portal:
        portal.call(race)
    return outcomes


def test_two_writers_racing_for_one_chunk_one_wins(store: BlobStore, stored: StoredBlobs) -> None:
    """Different bytes for one chunk at the same moment (two tabs of one author): the store
    keeps exactly one and refuses the other, never a mix and never the loser's bytes."""
    for _round in range(5):
        key = _key()
        contenders = [secrets.token_bytes(3 * PIECE), secrets.token_bytes(3 * PIECE)]
        outcomes = _race(store, key, contenders)
        won = [o for o in outcomes if isinstance(o, StoredChunk)]
        assert len(won) == 1
        assert [type(o) for o in outcomes if o not in won] == [ChunkConflict]
        kept = b"".join(store.read_chunk(key))
        assert kept in contenders
        assert won[0] == StoredChunk(len(kept), protocol.chunk_hash(kept))
    assert len(_leftovers(stored)) == 5


def test_too_large_stream_keeps_nothing(store: BlobStore, stored: StoredBlobs) -> None:
    key = _key()
    with pytest.raises(ChunkTooLarge):
        _write(store, key, secrets.token_bytes(3 * PIECE), max_size=2 * PIECE)
    assert store.chunk_info(key) is None
    assert _leftovers(stored) == []


def test_interrupted_stream_leaves_no_chunk(store: BlobStore, stored: StoredBlobs) -> None:
    key = _key()
    with pytest.raises(ConnectionResetError):
        _write(store, key, secrets.token_bytes(4 * PIECE), max_size=8 * PIECE, fail_after=2 * PIECE)
    assert store.chunk_info(key) is None
    assert store.stored_size(key) is None
    with pytest.raises(FileNotFoundError):
        store.read_chunk(key)
    assert _leftovers(stored) == []


def test_deleting_an_object_removes_all_its_chunks(store: BlobStore) -> None:
    key = _key()
    for index in range(3):
        _write(store, key._replace(chunk=index), b"x" * 10, max_size=10)
    other = _key()
    _write(store, other, b"y", max_size=10)
    store.delete_object(key.object_id)
    assert [store.chunk_info(key._replace(chunk=i)) for i in range(3)] == [None] * 3
    assert store.chunk_info(other) is not None


def test_deleting_a_version_or_a_chunk_removes_only_that(
    store: BlobStore, stored: StoredBlobs
) -> None:
    key = _key()
    for version, chunk in [(1, 0), (1, 1), (2, 0)]:
        _write(store, key._replace(version=version, chunk=chunk), b"x" * 10, max_size=10)
    store.delete_chunk(key._replace(chunk=1))
    store.delete_chunk(key._replace(chunk=7))  # absent: nothing happens
    assert store.stored_size(key._replace(chunk=1)) is None
    assert store.stored_size(key) == 10
    store.delete_version(key.object_id, 1)
    assert store.stored_size(key) is None
    assert store.stored_size(key._replace(version=2)) == 10
    assert len(_leftovers(stored)) == 1


def test_stored_versions_lists_each_version_once_with_its_last_change(store: BlobStore) -> None:
    first, second = _key(), _key()
    started = time.time()
    for key in [first, first._replace(chunk=1), first._replace(version=10), second]:
        _write(store, key, b"x" * 10, max_size=10)
    found = sorted(store.stored_versions())
    assert [(v.object_id, v.version) for v in found] == sorted(
        [(first.object_id, 1), (first.object_id, 10), (second.object_id, 1)]
    )
    # Clocks (the machine's, the bucket's) may round to the second.
    assert all(started - 2 <= v.modified_at <= time.time() + 2 for v in found)


def test_make_durable_keeps_every_chunk(store: BlobStore) -> None:
    key = _key()
    _write(store, key, b"x" * 10, max_size=10)
    store.make_durable(key.object_id, key.version)
    assert store.chunk_info(key) == StoredChunk(10, protocol.chunk_hash(b"x" * 10))


def test_calls_that_wait_are_refused_in_a_handler_on_the_event_loop_and_made_in_threads(
    store: BlobStore,
) -> None:
    """Reading requests' handlers run on the event loop (web.endpoint marks them with
    ``waits_refused``): one that reads, deletes or lists blobs there, not in a thread, is refused
    at once rather than stop the loop while it waits; nothing it asked for is done. From a worker
    thread it starts the same calls run, and so do they on a loop's thread outside a handler (a
    test driving a browser keeps a loop running)."""
    key = _key()
    _write(store, key, b"x" * 10, max_size=10)
    received = ReceivedChunk(key, StoredChunk(10, protocol.chunk_hash(b"x" * 10)), None)
    waiting_calls: dict[str, Callable[[], object]] = {
        "read_chunk": lambda: store.read_chunk(key),
        "chunk_info": lambda: store.chunk_info(key),
        "stored_size": lambda: store.stored_size(key),
        "replace_chunk": lambda: store.replace_chunk(received),
        "make_durable": lambda: store.make_durable(key.object_id, key.version),
        "delete_chunk": lambda: store.delete_chunk(key),
        "delete_version": lambda: store.delete_version(key.object_id, key.version),
        "delete_object": lambda: store.delete_object(key.object_id),
        "stored_versions": lambda: store.stored_versions(),
        "remove_stale_incoming": lambda: store.remove_stale_incoming(3600),
    }
    refused: list[str] = []

    async def on_the_loop() -> tuple[int | None, int | None]:
        with waits_refused():
            for name, call in waiting_calls.items():
                with pytest.raises(BlobOnTheLoop, match=name):
                    call()
                refused.append(name)
            in_a_thread = await anyio.to_thread.run_sync(store.stored_size, key)
        return in_a_thread, store.stored_size(key)

    with start_blocking_portal() as portal:
        assert portal.call(on_the_loop) == (10, 10)
    assert refused == list(waiting_calls)
    assert b"".join(store.read_chunk(key)) == b"x" * 10  # nothing was deleted


def test_stale_incoming_files_are_cleaned(tmp_path: Path) -> None:
    """The filesystem store's own: a bucket has no temporary objects (a PUT is atomic)."""
    store = FilesystemBlobStore(tmp_path)
    folder = tmp_path / "ab" / "leftover"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".incoming-old", folder / ".incoming-new"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert store.remove_stale_incoming(older_than_seconds=3600) == 1
    assert not stale.exists()
    assert fresh.exists()


def test_only_object_ids_name_folders_or_keys(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="not an object id"):
        store.chunk_info(ChunkKey("../../etc/passwd-xxxxxxxxxxxxxxxxxxxx", 1, 0, 0))
    with pytest.raises(ValueError, match="not an object id"):
        store.delete_object("../" * 12)


def _write_several(
    store: BlobStore, chunks: list[tuple[ChunkKey, bytes]], *, finish: bool = True
) -> tuple[list[StoredChunk], list[ChunkKey]]:
    """A request's chunks through ``begin_writes`` (finished, or closed before): what each write
    gave, and the keys put in place."""

    async def run() -> tuple[list[StoredChunk], list[ChunkKey]]:
        writes = store.begin_writes()
        try:
            results = [
                await writes.write(key, _pieces(data), max_size=len(data)) for key, data in chunks
            ]
            if finish:
                await anyio.to_thread.run_sync(writes.finish)
            return results, list(writes.written)
        finally:
            writes.close()

    with start_blocking_portal() as portal:
        return portal.call(run)


def test_a_requests_chunks_are_in_place_only_once_finished(
    store: BlobStore, stored: StoredBlobs
) -> None:
    first = _key()
    chunks = [(first._replace(chunk=i), secrets.token_bytes(PIECE * 3 + i)) for i in range(3)]
    results, written = _write_several(store, chunks)
    assert results == [StoredChunk(len(d), protocol.chunk_hash(d)) for _k, d in chunks]
    assert written == [key for key, _d in chunks]
    for key, data in chunks:
        assert b"".join(store.read_chunk(key)) == data
    assert stored.incoming() == []


def test_a_request_closed_before_finishing_leaves_nothing(
    store: BlobStore, stored: StoredBlobs
) -> None:
    """The filesystem store puts nothing in place before ``finish``; a bucket has each chunk
    already (its PUT is atomic), and the request's caller removes those no row names."""
    first = _key()
    chunks = [(first._replace(chunk=i), secrets.token_bytes(PIECE + i)) for i in range(2)]
    _results, written = _write_several(store, chunks, finish=False)
    assert stored.incoming() == []
    if isinstance(store, FilesystemBlobStore):
        assert written == []
        assert stored.chunks() == []


def test_each_chunks_writeback_starts_when_its_bytes_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk is asked to write each chunk as soon as its last byte is written, before the
    request's fsyncs at its end (bench/README.md, "Media ingest, sixth round"), so they wait
    for less; the fsyncs still come, one per chunk."""
    store = FilesystemBlobStore(tmp_path)
    first = _key()
    chunks = [(first._replace(chunk=i), secrets.token_bytes(PIECE * 9 + i)) for i in range(3)]
    events: list[tuple[str, int, int]] = []
    real_advise, real_fsync = os.posix_fadvise, os.fsync

    def advise_and_note(fd: int, offset: int, length: int, advice: int) -> None:
        assert (offset, length, advice) == (0, 0, os.POSIX_FADV_DONTNEED)
        events.append(("advise", os.fstat(fd).st_ino, os.fstat(fd).st_size))
        real_advise(fd, offset, length, advice)

    def fsync_and_note(fd: int) -> None:
        events.append(("fsync", os.fstat(fd).st_ino, os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr("portal.blobstore.os.posix_fadvise", advise_and_note)
    monkeypatch.setattr("portal.blobstore.os.fsync", fsync_and_note)
    _write_several(store, chunks)
    files = [(store._path(key).stat().st_ino, len(data)) for key, data in chunks]
    assert events == [("advise", *file) for file in files] + [("fsync", *file) for file in files]


def test_each_chunk_is_fsynced_before_it_is_put_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The durability promise (docs/security.md, "Durable when it matters"): every chunk of a
    request is fsynced before its name exists, though the fsyncs come together at the end."""
    store = FilesystemBlobStore(tmp_path)
    first = _key()
    chunks = [(first._replace(chunk=i), secrets.token_bytes(PIECE * 9)) for i in range(4)]
    finals = {store._path(key) for key, _d in chunks}
    synced: list[tuple[int, list[Path]]] = []
    real_fsync = os.fsync

    def fsync_and_note(fd: int) -> None:
        # Which file, and which chunk names existed at that moment.
        synced.append((os.fstat(fd).st_ino, sorted(p for p in finals if p.exists())))
        real_fsync(fd)

    monkeypatch.setattr("portal.blobstore.os.fsync", fsync_and_note)
    _write_several(store, chunks)
    inodes = [store._path(key).stat().st_ino for key, _d in chunks]
    assert [inode for inode, _there in synced] == inodes
    for index, (_inode, there) in enumerate(synced):
        # Before the n-th fsync, only the chunks before it are in place.
        assert there == sorted(store._path(key) for key, _d in chunks[:index])
