"""Where large ciphertext chunks live: an interface, and the filesystem implementation.

A chunk is immutable once written. Writing streams the request body to a temporary file in the
chunk's own folder, hashing as it goes, fsyncs it and links it into place, so a reader never
sees half a chunk and a crash leaves at most a stray temporary file (removed by
``remove_stale_incoming``). Writing the same bytes again is a no-op (uploads resume by sending
what the server does not have yet); different bytes for a chunk that exists are refused.
Nothing is ever held whole in memory.

    BlobStoreError
    ├── ChunkTooLarge      the stream went past max_size (nothing kept)
    └── ChunkConflict      other bytes already stored under this key
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from anyio import to_thread

# The key of protocol.chunk_hash (docs/protocol-v1.md); the tests check both give one hash.
CHUNK_HASH_KEY = b"portal/v1/chunk-hash"
READ_PIECE = 64 * 1024
INCOMING_PREFIX = ".incoming-"


class BlobStoreError(Exception):
    pass


class ChunkTooLarge(BlobStoreError):
    pass


class ChunkConflict(BlobStoreError):
    pass


class ChunkKey(NamedTuple):
    object_id: str
    version: int
    part: int
    chunk: int


@dataclass(frozen=True)
class StoredChunk:
    size: int
    digest: bytes  # protocol.chunk_hash of the stored bytes


class BlobStore(Protocol):
    async def write_chunk(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk: ...

    def read_chunk(self, key: ChunkKey) -> Iterator[bytes]: ...

    def chunk_info(self, key: ChunkKey) -> StoredChunk | None: ...

    def delete_object(self, object_id: str) -> None: ...

    def remove_stale_incoming(self, older_than_seconds: float) -> int: ...


def _hasher() -> hashlib.blake2b:
    # The same keyed BLAKE2b-256 as protocol.chunk_hash, fed piece by piece.
    return hashlib.blake2b(digest_size=32, key=CHUNK_HASH_KEY)


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _object_dir(self, object_id: str) -> Path:
        # Ids are server-issued UUIDs; the two-letter fan-out keeps folders small.
        if len(object_id) != 36 or not all(c in "0123456789abcdef-" for c in object_id):
            raise ValueError("not an object id")
        return self.root / object_id[:2] / object_id

    def _path(self, key: ChunkKey) -> Path:
        return (
            self._object_dir(key.object_id)
            / f"v{key.version}"
            / f"p{key.part}"
            / f"{key.chunk}.chunk"
        )

    async def write_chunk(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk:
        final = self._path(key)
        await to_thread.run_sync(lambda: final.parent.mkdir(parents=True, exist_ok=True))
        fd, temp_name = await to_thread.run_sync(lambda: _mkstemp(final.parent))
        temp = Path(temp_name)
        digest = _hasher()
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                async for piece in stream:
                    size += len(piece)
                    if size > max_size:
                        raise ChunkTooLarge
                    digest.update(piece)
                    await to_thread.run_sync(handle.write, piece)
                await to_thread.run_sync(handle.flush)
                await to_thread.run_sync(os.fsync, handle.fileno())
            stored = StoredChunk(size, digest.digest())
            await to_thread.run_sync(self._commit, temp, final, stored)
            return stored
        finally:
            temp.unlink(missing_ok=True)

    def _commit(self, temp: Path, final: Path, stored: StoredChunk) -> None:
        try:
            # A hard link creates the final name only if it does not exist yet, atomically: two
            # writers racing for one chunk cannot both win. The temporary name is removed after.
            os.link(temp, final)
        except FileExistsError:
            if self.chunk_info_at(final) != stored:
                raise ChunkConflict from None
            return  # the same bytes again: a resumed upload
        _fsync_dir(final.parent)

    def read_chunk(self, key: ChunkKey) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while piece := handle.read(READ_PIECE):
                yield piece

    def chunk_info(self, key: ChunkKey) -> StoredChunk | None:
        return self.chunk_info_at(self._path(key))

    @staticmethod
    def chunk_info_at(path: Path) -> StoredChunk | None:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return None
        digest = _hasher()
        size = 0
        with handle:
            while piece := handle.read(READ_PIECE):
                digest.update(piece)
                size += len(piece)
        return StoredChunk(size, digest.digest())

    def delete_object(self, object_id: str) -> None:
        shutil.rmtree(self._object_dir(object_id), ignore_errors=True)

    def remove_stale_incoming(self, older_than_seconds: float) -> int:
        """Remove temporary files left by interrupted writes; returns how many."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.rglob(f"{INCOMING_PREFIX}*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _mkstemp(folder: Path) -> tuple[int, str]:
    return tempfile.mkstemp(dir=folder, prefix=INCOMING_PREFIX)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
