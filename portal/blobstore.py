"""Where large ciphertext chunks live: an interface, and the filesystem implementation (the
default; an S3-compatible bucket is the other, in portal/blobstore_s3.py: ``open_blob_store``).

A chunk is immutable once written. Writing streams the request body to a temporary file in the
chunk's own folder, hashing as it goes, fsyncs it and links it into place, so a reader never
sees half a chunk and a crash leaves at most a stray temporary file (removed by
``remove_stale_incoming``). A request that carries several chunks writes them in turn as they
arrive and puts them all in place at once (``begin_writes``: one trip to a worker thread for
every chunk's fsync and link, not one per chunk). Writing the same bytes again is a no-op
(uploads resume by sending what the server does not have yet); different bytes for a chunk
that exists are refused, and kept aside for the caller: if no row names the stored ones (a
crash came between a chunk's write and its row), ``replace_chunk`` puts the new bytes in their
place. Nothing is ever held whole in memory.

Every call that reads, deletes or lists (the calls a page or a job might make) is refused in a
request's handler running on the event loop (:func:`off_the_loop`, ``BlobOnTheLoop``): reading
requests run on the loop (web.endpoint, which marks their handlers with :func:`waits_refused`),
and a handler that used the store there without ``endpoint(threads=True)`` would stop every
other request while it waited on the disk or the network. Refused, it fails its own request in
any test that reaches it. A PUT's writes are the loop's by design (the bytes go out as they
arrive, the fsyncs in a thread), and so is ``discard``, which closing them calls.

    BlobStoreError
    ├── ChunkTooLarge      the stream went past max_size (nothing kept)
    └── ChunkConflict      other bytes already stored under this key
    BlobOnTheLoop          (a RuntimeError) a waiting call made in a handler on the event loop
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterable, Callable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from io import FileIO
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, ParamSpec, Protocol, TypeVar

from anyio import to_thread

if TYPE_CHECKING:
    from portal.settings import Settings

# The key of protocol.chunk_hash (docs/protocol-v1.md); the tests check both give one hash.
CHUNK_HASH_KEY = b"portal/v1/chunk-hash"
READ_PIECE = 64 * 1024
# Half a chunk: a PUT holds at most this much of a chunk before it is on its way to the disk
# (written on the event loop, one writev each; the fsyncs come later, in a worker thread).
WRITE_BATCH = 512 * 1024
INCOMING_PREFIX = ".incoming-"


P = ParamSpec("P")
R = TypeVar("R")


class BlobOnTheLoop(RuntimeError):
    """A blob store call that waits on the disk or the network, made in a request's handler on
    the event loop: a programming error (the endpoint needs ``threads=True``; see the module's
    docstring)."""


# Set while a reading request's handler runs on the event loop (web._run).
_HANDLER_ON_THE_LOOP: ContextVar[bool] = ContextVar("handler_on_the_loop", default=False)


class _WaitsRefused:
    # A class, not a generator made a context manager: every reading request enters it, and
    # contextlib's machinery cost three times the variable's own setting.
    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _HANDLER_ON_THE_LOOP.set(True)

    def __exit__(self, *_exc: object) -> None:
        _HANDLER_ON_THE_LOOP.reset(self._token)


def waits_refused() -> AbstractContextManager[None]:
    """Within it, on the thread that runs an event loop, the calls that wait are refused.

    Marked by the handler, not found from the thread alone: other code on a thread with a
    running loop (a test driving a browser, which keeps one running) may wait as it likes; and
    a worker thread the handler starts (a streamed answer's) runs no loop, so it may too."""
    return _WaitsRefused()


def off_the_loop(call: Callable[P, R]) -> Callable[P, R]:
    """``call``, refused (BlobOnTheLoop) in a handler on the event loop (:func:`waits_refused`)."""

    @functools.wraps(call)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        if _HANDLER_ON_THE_LOOP.get():
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # no loop runs on this thread: a worker thread
                pass
            else:
                raise BlobOnTheLoop(
                    f"the blob store's {call.__name__} waits; it was called on the event loop"
                )
        return call(*args, **kwargs)

    return guarded


class BlobStoreError(Exception):
    pass


class ChunkTooLarge(BlobStoreError):
    pass


class ChunkConflict(BlobStoreError):
    """Other bytes are stored under this key. ``received`` is what this write received, kept
    aside (never in place): the caller hands it to ``replace_chunk`` or ``discard``."""

    def __init__(self, received: ReceivedChunk | None = None) -> None:
        super().__init__("other bytes are stored under this chunk's key")
        self.received = received


class ChunkKey(NamedTuple):
    object_id: str
    version: int
    part: int
    chunk: int


@dataclass(frozen=True)
class StoredChunk:
    size: int
    digest: bytes  # protocol.chunk_hash of the stored bytes


@dataclass(frozen=True)
class ReceivedChunk:
    """Bytes a write received, hashed and (on the filesystem) fsynced, kept aside because other
    bytes were stored under their key: ``kept`` is the store's own handle on them (a temporary
    file, or the bytes themselves)."""

    key: ChunkKey
    stored: StoredChunk
    kept: object


class StoredVersion(NamedTuple):
    object_id: str
    version: int
    modified_at: float  # seconds since the epoch


class ChunkWrites(Protocol):
    """The chunks of one request, written in turn as their bytes arrive (``write``: the size
    and hash of each are known when it ends), then put in place all at once (``finish``, which
    blocks: call it from a worker thread, outside any transaction). Whatever happens, ``close``
    at the end: it removes what was never put in place and drops bytes kept aside.

    ``written``: the keys that hold this request's bytes now (put in place, or the same bytes
    found there): if the record is refused, the caller removes those no row names. ``aside``:
    bytes received for a key that holds other bytes (the caller decides:
    ``BlobStore.replace_chunk`` if no row names the stored ones, else a conflict)."""

    written: list[ChunkKey]
    aside: list[ReceivedChunk]

    async def write(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


class BlobStore(Protocol):
    async def write_chunk(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk:
        """One chunk written and in place; ChunkConflict (with the bytes kept aside) if other
        bytes are stored under its key."""
        ...

    def begin_writes(self) -> ChunkWrites:
        """Several chunks of one request, put in place together (see ChunkWrites)."""
        ...

    def read_chunk(self, key: ChunkKey) -> Iterator[bytes]:
        """The chunk's bytes in pieces; FileNotFoundError at once (not mid-stream) if absent."""
        ...

    def chunk_info(self, key: ChunkKey) -> StoredChunk | None: ...

    def replace_chunk(self, received: ReceivedChunk) -> None:
        """Put bytes a write kept aside (``ChunkConflict.received``) in place of those stored
        under their key. Only for stored bytes no row names, decided with the upload's row
        locked (content.uploads.record_chunks), so that no writer records the old ones meanwhile:
        a crash left them between a chunk's write and its row."""
        ...

    def discard(self, received: ReceivedChunk) -> None:
        """Drop bytes a write kept aside (no-op once replaced)."""
        ...

    def stored_size(self, key: ChunkKey) -> int | None: ...

    def make_durable(self, object_id: str, version: int) -> None: ...

    def delete_chunk(self, key: ChunkKey) -> None: ...

    def delete_version(self, object_id: str, version: int) -> None: ...

    def delete_object(self, object_id: str) -> None: ...

    def stored_versions(self) -> Iterator[StoredVersion]:
        """Every (object, version) folder present, with its last change time."""
        ...

    def remove_stale_incoming(self, older_than_seconds: float) -> int: ...


def open_blob_store(settings: Settings) -> BlobStore:
    """The store the settings choose: the data folder (default) or an S3-compatible bucket."""
    if settings.s3 is not None:
        # Imported only when chosen: boto3 takes a while to load and the default needs none.
        from portal.blobstore_s3 import S3BlobStore

        return S3BlobStore.from_settings(settings.s3)
    return FilesystemBlobStore(settings.blobs_dir)


def _hasher() -> hashlib.blake2b:
    # The same keyed BLAKE2b-256 as protocol.chunk_hash, fed piece by piece.
    return hashlib.blake2b(digest_size=32, key=CHUNK_HASH_KEY)


chunk_hasher = _hasher  # for the other stores (blobstore_s3.py)


async def write_one(
    writes: ChunkWrites, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
) -> StoredChunk:
    """``BlobStore.write_chunk`` for any store: one chunk written and put in place."""
    try:
        stored = await writes.write(key, stream, max_size=max_size)
        await to_thread.run_sync(writes.finish)
        if writes.aside:
            raise ChunkConflict(writes.aside.pop())  # the caller's to replace or discard now
        return stored
    finally:
        writes.close()


def check_object_id(object_id: str) -> None:
    """Ids are server-issued UUIDs; anything else never names a folder or a key."""
    if len(object_id) != 36 or not all(c in "0123456789abcdef-" for c in object_id):
        raise ValueError("not an object id")


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _object_dir(self, object_id: str) -> Path:
        # The two-letter fan-out keeps folders small.
        check_object_id(object_id)
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
        return await write_one(self.begin_writes(), key, stream, max_size=max_size)

    def begin_writes(self) -> _FilesystemWrites:
        return _FilesystemWrites(self)

    @off_the_loop
    def replace_chunk(self, received: ReceivedChunk) -> None:
        # Atomic: a reader sees the old bytes or the new ones. The new bytes were fsynced before
        # they were kept aside; the name is made durable at submit, like every chunk's.
        os.replace(_kept_file(received), self._path(received.key))

    def discard(self, received: ReceivedChunk) -> None:
        _kept_file(received).unlink(missing_ok=True)

    @off_the_loop
    def stored_size(self, key: ChunkKey) -> int | None:
        """The size of a stored chunk, or None if there is none (no reading, no hashing)."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    @off_the_loop
    def make_durable(self, object_id: str, version: int) -> None:
        """fsync every folder of a version, up to the root: its chunks' names survive a crash."""
        version_dir = self._object_dir(object_id) / f"v{version}"
        for part_dir in sorted(p for p in version_dir.iterdir() if p.is_dir()):
            _fsync_dir(part_dir)
        for folder in (version_dir, version_dir.parent, version_dir.parent.parent, self.root):
            _fsync_dir(folder)

    @off_the_loop
    def read_chunk(self, key: ChunkKey) -> Iterator[bytes]:
        # Opened now, so a missing chunk is an error before any response has started. Read in
        # one call (unbuffered: one fstat, one read) when its turn comes: a stored chunk is at
        # most uploads.MAX_CHUNK_BYTES and a chunk GET sends it whole (media/views.py), so
        # 64 KiB pieces only added 16 reads and a join per chunk (bench/README.md, "Playback,
        # fifth round").
        return _whole(self._path(key).open("rb", buffering=0))

    @off_the_loop
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

    @off_the_loop
    def delete_chunk(self, key: ChunkKey) -> None:
        self._path(key).unlink(missing_ok=True)

    @off_the_loop
    def delete_version(self, object_id: str, version: int) -> None:
        folder = self._object_dir(object_id)
        shutil.rmtree(folder / f"v{version}", ignore_errors=True)
        with contextlib.suppress(OSError):  # still holds other versions: keep it
            folder.rmdir()

    @off_the_loop
    def delete_object(self, object_id: str) -> None:
        shutil.rmtree(self._object_dir(object_id), ignore_errors=True)

    @off_the_loop
    def stored_versions(self) -> Iterator[StoredVersion]:
        for fan in sorted(self.root.iterdir()):
            if not fan.is_dir():
                continue
            for folder in sorted(fan.iterdir()):
                for version in sorted(folder.glob("v*")):
                    if version.name[1:].isdigit():
                        yield StoredVersion(
                            folder.name, int(version.name[1:]), _latest_change(version)
                        )

    @off_the_loop
    def remove_stale_incoming(self, older_than_seconds: float) -> int:
        """Remove temporary files left by interrupted writes; returns how many."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.rglob(f"{INCOMING_PREFIX}*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _latest_change(folder: Path) -> float:
    latest = 0.0
    for path in [folder, *folder.rglob("*")]:
        with contextlib.suppress(FileNotFoundError):  # removed while we looked
            latest = max(latest, path.stat().st_mtime)
    return latest


def _whole(handle: FileIO) -> Iterator[bytes]:
    with handle:
        yield handle.readall()


class _FilesystemWrites:
    """The chunks of one request on the filesystem (see ChunkWrites).

    Pieces arrive from the socket about 64 KiB at a time. They are gathered, by reference
    (never joined: a join costs a copy and fresh pages, as much CPU as the hash), into batches
    of WRITE_BATCH bytes, each hashed and written to the chunk's temporary file with one writev
    on the event loop, as the bare streaming endpoint writes (bench/ingest.py): about a
    millisecond for 512 KiB, into the page cache, where a trip to a worker thread cost more CPU
    than the work it carried (bench/README.md, "Worker-thread hops"). So at most one batch of
    a chunk is held at once. What waits for the disk (each chunk's fsync, then its link into
    place) is done for all of the request's chunks in ``finish``, in one worker thread, which
    the caller runs just before the transaction that records them (web.StreamCtx.run's
    ``first``): one trip per request rather than one per chunk (bench/README.md, "Media ingest,
    fifth round"). Every chunk is still fsynced before it is linked, and linked before any row
    holds it.
    """

    def __init__(self, store: FilesystemBlobStore) -> None:
        self.store = store
        self.written: list[ChunkKey] = []
        self.aside: list[ReceivedChunk] = []
        self._ended: list[_Incoming] = []  # written in full, not yet in place
        self._folders: set[Path] = set()  # made already by this request

    async def write(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk:
        final = self.store._path(key)
        if final.parent not in self._folders:
            final.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(final.parent)
        incoming = _Incoming(key, final)
        size = 0
        batch: list[bytes] = []
        batched = 0
        try:
            async for piece in stream:
                size += len(piece)
                if size > max_size:
                    raise ChunkTooLarge
                batch.append(piece)
                batched += len(piece)
                if batched >= WRITE_BATCH:
                    incoming.absorb(batch)
                    batch, batched = [], 0
            incoming.absorb(batch)
            incoming.end()
        except BaseException:
            incoming.abandon()
            raise
        self._ended.append(incoming)
        return incoming.stored()

    def finish(self) -> None:
        """fsync each chunk written, then link it to its name (blocks: a worker thread)."""
        while self._ended:
            incoming = self._ended[0]
            stored = incoming.stored()
            if incoming.finish() or self.store.chunk_info_at(incoming.final) == stored:
                self.written.append(incoming.key)
            else:
                self.aside.append(incoming.keep_aside(stored))
            incoming.abandon()  # the temporary name goes (unless kept aside)
            self._ended.pop(0)

    def close(self) -> None:
        for incoming in self._ended:
            incoming.abandon()
        self._ended.clear()
        for received in self.aside:
            self.store.discard(received)
        self.aside.clear()


class _Incoming:
    """One chunk being written: a temporary file in the chunk's folder, fed in order on the
    event loop and closed when it ends; later fsynced, then linked to its final name."""

    def __init__(self, key: ChunkKey, final: Path) -> None:
        self.key = key
        self.final = final
        self.digest = _hasher()
        self.size = 0
        self.fd: int | None = None
        self.temp: Path | None = None

    def absorb(self, pieces: list[bytes]) -> None:
        fd = self.fd
        if fd is None:
            # Made by the chunk's first bytes (or at its end, if it has none).
            fd, name = tempfile.mkstemp(dir=self.final.parent, prefix=INCOMING_PREFIX)
            self.fd, self.temp = fd, Path(name)
        for piece in pieces:
            self.digest.update(piece)
            self.size += len(piece)
        _write_all(fd, pieces)

    def end(self) -> None:
        """All its bytes are written: the disk is asked to start writing them now, and the
        descriptor is closed until the fsync (a request may hold up to 16 chunks written and
        not yet in place)."""
        if self.fd is not None:
            _start_writeback(self.fd)
        self._close()

    def stored(self) -> StoredChunk:
        return StoredChunk(self.size, self.digest.digest())

    def finish(self) -> bool:
        """fsync, then link; False if the final name existed already (the caller compares the
        bytes there)."""
        if self.temp is None:
            raise FileNotFoundError("nothing was written")
        # Opened again to fsync: the dirty pages are the file's, whichever descriptor asks.
        fd = os.open(self.temp, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # A hard link creates the final name only if it does not exist yet, atomically: two
            # writers racing for one chunk cannot both win. The temporary name is removed after.
            os.link(self.temp, self.final)
        except FileExistsError:
            return False
        # The chunk's bytes are durable (fsynced above); its name becomes durable when the
        # message is submitted (make_durable). Until then a crash may lose the newest names,
        # which the submit finds missing and the browser sends again.
        return True

    def _close(self) -> None:
        # Closed exactly once: a second close could hit a descriptor that another request
        # has opened under the same number meanwhile.
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def keep_aside(self, stored: StoredChunk) -> ReceivedChunk:
        """The fsynced temporary file becomes the caller's (``abandon`` leaves it)."""
        temp, self.temp = self.temp, None
        return ReceivedChunk(self.key, stored, temp)

    def abandon(self) -> None:
        """Whatever happened: the descriptor closed and the temporary name gone."""
        self._close()
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)
            self.temp = None


def _kept_file(received: ReceivedChunk) -> Path:
    if not isinstance(received.kept, Path):
        raise TypeError("not kept aside by the filesystem store")
    return received.kept


def _write_all(fd: int, pieces: list[bytes]) -> None:
    # One writev for the whole batch (no joined copy); a short write goes on where it stopped.
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if views:
            views[0] = views[0][written:]


def _start_writeback(fd: int) -> None:
    """Ask the kernel to start writing a chunk's dirty pages to the disk now, without waiting:
    the request's fsyncs, which come together at its end (``_FilesystemWrites.finish``), then
    find most of the bytes written while the next chunks were still arriving, instead of
    waiting for all of them in turn (bench/README.md, "Media ingest, sixth round"). Only
    advice: ``fsync`` still makes each chunk durable before its name exists. On Linux,
    POSIX_FADV_DONTNEED starts the writeback of dirty pages (and drops only pages already
    clean); ``sync_file_range``, which PostgreSQL uses for the same, is not in Python's ``os``."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:  # pragma: no cover - not on Linux (macOS lacks it): the fsync does it all
        return
    with contextlib.suppress(OSError):  # advice only: a filesystem may refuse it
        advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
