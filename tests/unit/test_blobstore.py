"""The filesystem blob store: atomic, idempotent, streamed chunks."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal

from portal import protocol
from portal.blobstore import (
    ChunkConflict,
    ChunkKey,
    ChunkTooLarge,
    FilesystemBlobStore,
    StoredChunk,
)

PIECE = 64 * 1024


async def _pieces(data: bytes, *, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), PIECE):
        if fail_after is not None and offset >= fail_after:
            raise ConnectionResetError("the browser went away")
        yield data[offset : offset + PIECE]


def _write(store: FilesystemBlobStore, key: ChunkKey, data: bytes, **kwargs: int) -> StoredChunk:
    fail_after = kwargs.pop("fail_after", None)

    async def run() -> StoredChunk:
        return await store.write_chunk(key, _pieces(data, fail_after=fail_after), **kwargs)

    # An event loop of its own, in its own thread: the browser tests' Playwright keeps one
    # running in the main thread for the whole session.
    with start_blocking_portal() as portal:
        return portal.call(run)


def _key(chunk: int = 0) -> ChunkKey:
    return ChunkKey(str(uuid.uuid4()), 1, 0, chunk)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_written_chunk_reads_back_with_the_protocol_hash(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    data = secrets.token_bytes(protocol.CHUNK_SIZE + 40)
    key = _key()
    stored = _write(store, key, data, max_size=protocol.CHUNK_SIZE + 40)
    assert stored == StoredChunk(len(data), protocol.chunk_hash(data))
    assert b"".join(store.read_chunk(key)) == data
    assert store.chunk_info(key) == stored


def test_same_bytes_again_is_a_no_op(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    key, data = _key(), secrets.token_bytes(1000)
    first = _write(store, key, data, max_size=2000)
    assert _write(store, key, data, max_size=2000) == first
    assert len(_leftovers(tmp_path)) == 1


def test_other_bytes_for_a_stored_chunk_are_refused(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    key = _key()
    _write(store, key, b"a" * 100, max_size=200)
    with pytest.raises(ChunkConflict):
        _write(store, key, b"b" * 100, max_size=200)
    assert b"".join(store.read_chunk(key)) == b"a" * 100
    assert len(_leftovers(tmp_path)) == 1


def test_too_large_stream_keeps_nothing(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    key = _key()
    with pytest.raises(ChunkTooLarge):
        _write(store, key, secrets.token_bytes(3 * PIECE), max_size=2 * PIECE)
    assert store.chunk_info(key) is None
    assert _leftovers(tmp_path) == []


def test_interrupted_stream_leaves_no_chunk(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    key = _key()
    with pytest.raises(ConnectionResetError):
        _write(store, key, secrets.token_bytes(4 * PIECE), max_size=8 * PIECE, fail_after=2 * PIECE)
    assert store.chunk_info(key) is None
    assert _leftovers(tmp_path) == []


def test_deleting_an_object_removes_all_its_chunks(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    key = _key()
    for index in range(3):
        _write(store, key._replace(chunk=index), b"x" * 10, max_size=10)
    other = _key()
    _write(store, other, b"y", max_size=10)
    store.delete_object(key.object_id)
    assert [store.chunk_info(key._replace(chunk=i)) for i in range(3)] == [None] * 3
    assert store.chunk_info(other) is not None


def test_stale_incoming_files_are_cleaned(tmp_path: Path) -> None:
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


def test_only_object_ids_name_folders(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    with pytest.raises(ValueError, match="not an object id"):
        store.chunk_info(ChunkKey("../../etc/passwd-xxxxxxxxxxxxxxxxxxxx", 1, 0, 0))
