"""Chunks in an S3-compatible bucket (``PORTAL_BLOB_STORE=s3``): the filesystem store's contract
(portal/blobstore.py) over the standard S3 API only (PutObject, GetObject, HeadObject,
DeleteObject(s), ListObjectsV2), so AWS, MinIO, Ceph RGW or Garage all serve.

Several server processes share one bucket and act as one service; nothing about a chunk is kept
in a process's data folder.

Keys: ``<prefix>chunks/<object id>/v<version>/p<part>/<chunk>``. The object ids are random
UUIDs issued by the server; the bucket sees ciphertext under them and nothing else (no metadata,
no names, no content types).

How the contract maps:

- Atomic: an object appears whole when its PutObject returns, or not at all. So there is no
  temporary name to rename and nothing half-written to clean: ``remove_stale_incoming`` has
  nothing to do. A chunk is at most 1 MiB + 40 bytes, one PutObject (no multipart upload).
- Write once: a HEAD first, so a chunk that exists is compared (same bytes: a resumed upload, a
  no-op; other bytes: ChunkConflict, the new bytes kept aside in memory; ``replace_chunk``
  puts them in place with an unconditional PUT) on any store; then the PUT carries
  ``If-None-Match: *`` so that of two writers racing for one key only the first is kept, on
  stores with conditional writes (AWS, MinIO, Ceph RGW, moto). A store that ignores the header
  keeps the last writer's bytes in that race; only the author's own client can race itself for
  its own chunk, and a recipient's browser still refuses bytes whose hash the signed manifest
  does not name.
- Durable: S3 answers a PUT only once the object is stored durably, so ``make_durable`` is a
  no-op.
- Streaming: a PUT needs its length before its body, so a chunk's pieces are gathered in memory
  (at most ``max_size``, which is at most 1 MiB + 40 bytes) and hashed in batches as they
  arrive; reading streams the object's body in pieces.

boto3 calls block: ``write_chunk`` and ``begin_writes().write`` run them in the worker threads
(anyio), and every other method is called from a worker thread already (sync endpoints,
after-commit hooks, the maintenance jobs). One boto3 client is shared: clients are thread-safe.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
from anyio import to_thread
from botocore.config import Config
from botocore.exceptions import ClientError

from portal.blobstore import (
    READ_PIECE,
    WRITE_BATCH,
    ChunkConflict,
    ChunkKey,
    ChunkTooLarge,
    ReceivedChunk,
    StoredChunk,
    StoredVersion,
    check_object_id,
    chunk_hasher,
    off_the_loop,
    write_one,
)
from portal.settings import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef, ObjectTypeDef

# The worker threads that may call the store at once (anyio's default limiter is 40): one
# pooled connection each, so no call waits for a connection.
CONNECTIONS = 40
# DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000
# Error codes meaning "no such object" (HEAD answers a bare 404).
MISSING = {"404", "NoSuchKey", "NotFound"}
# Conditional PUT refused: the key exists (412), or another conditional write is in flight (409).
ALREADY_THERE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def client_for(settings: S3Settings) -> S3Client:
    access_key = secret_key = None  # then boto3's own chain: AWS_* variables, files, a role
    if settings.access_key_id is not None and settings.secret_access_key is not None:
        access_key = settings.access_key_id.reveal().decode()
        secret_key = settings.secret_access_key.reveal().decode()
    return _client(
        settings.endpoint_url, settings.region, settings.path_style, access_key, secret_key
    )


# Making a client costs about a second (boto3 loads the S3 service model): one per process and
# configuration is enough, clients being thread-safe (tests start many apps in one process).
@functools.lru_cache(maxsize=8)
def _client(
    endpoint_url: str | None,
    region: str | None,
    path_style: bool,
    access_key: str | None,
    secret_key: str | None,
) -> S3Client:
    config = Config(
        s3={"addressing_style": "path" if path_style else "virtual"},
        max_pool_connections=CONNECTIONS,
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
        # Checksums only where the API requires them: recent boto3 adds CRC headers to every
        # PUT by default, which several S3-compatible stores refuse.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A session of its own: boto3's default session is shared module state.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=config,
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.root = f"{prefix}chunks/"

    @classmethod
    def from_settings(cls, settings: S3Settings) -> S3BlobStore:
        return cls(client_for(settings), settings.bucket, settings.prefix)

    def check(self) -> None:
        """Raise unless the bucket can be reached with these credentials (``portal check``)."""
        self.client.head_bucket(Bucket=self.bucket)

    # -- keys

    def _object_prefix(self, object_id: str) -> str:
        check_object_id(object_id)
        return f"{self.root}{object_id}/"

    def _version_prefix(self, object_id: str, version: int) -> str:
        return f"{self._object_prefix(object_id)}v{int(version)}/"

    def key_of(self, key: ChunkKey) -> str:
        """The S3 key of a chunk (tests use it to reach the bucket directly)."""
        return (
            f"{self._version_prefix(key.object_id, key.version)}p{int(key.part)}/{int(key.chunk)}"
        )

    # -- writing

    async def write_chunk(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk:
        return await write_one(self.begin_writes(), key, stream, max_size=max_size)

    def begin_writes(self) -> _S3Writes:
        return _S3Writes(self)

    async def put_streamed(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk:
        """Gather, hash and put one chunk (ChunkConflict with the bytes kept aside)."""
        digest = chunk_hasher()
        body = bytearray()
        batch: list[bytes] = []
        batched = 0
        async for piece in stream:
            if len(body) + len(piece) > max_size:
                raise ChunkTooLarge  # nothing was sent to the bucket
            body += piece
            batch.append(piece)
            batched += len(piece)
            if batched >= WRITE_BATCH:
                # Hashed in a worker thread as the batches fill (hashlib lets go of the GIL),
                # so the event loop never waits for it and the hash is ready with the last
                # piece. The pieces themselves are hashed: no copy of the batch is made.
                await to_thread.run_sync(_absorb, digest, batch)
                batch, batched = [], 0
        await to_thread.run_sync(_absorb, digest, batch)
        stored = StoredChunk(len(body), digest.digest())
        # The bytearray itself goes to boto3 (no second copy of the chunk).
        await to_thread.run_sync(self._put_once, key, body, stored)
        return stored

    def _put_once(self, key: ChunkKey, body: bytearray, stored: StoredChunk) -> None:
        name = self.key_of(key)
        received = ReceivedChunk(key, stored, body)
        if self._size_at(name) is not None:
            self._same_or_conflict(name, received)
            return
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                # botocore takes a bytearray as it takes bytes; its type stubs say bytes only.
                Body=cast(bytes, body),
                ContentType="application/octet-stream",
                IfNoneMatch="*",
            )
        except ClientError as error:
            if _code(error) not in ALREADY_THERE:
                raise
            self._same_or_conflict(name, received)  # another writer won the race

    def _same_or_conflict(self, name: str, received: ReceivedChunk) -> None:
        if self._info_at(name) != received.stored:
            raise ChunkConflict(received)

    @off_the_loop
    def replace_chunk(self, received: ReceivedChunk) -> None:
        # Unconditional: the stored object is replaced whole (PUT is atomic).
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key_of(received.key),
            Body=cast(bytes, _kept_bytes(received)),
            ContentType="application/octet-stream",
        )

    def discard(self, received: ReceivedChunk) -> None:
        """Nothing to remove: the bytes were only in memory."""
        _kept_bytes(received)

    @off_the_loop
    def make_durable(self, object_id: str, version: int) -> None:
        """Nothing to do: S3 acknowledges a PUT once the object is durably stored."""
        check_object_id(object_id)

    # -- reading

    @off_the_loop
    def read_chunk(self, key: ChunkKey) -> Iterator[bytes]:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key_of(key))
        except ClientError as error:
            if _code(error) in MISSING:
                raise FileNotFoundError(key) from None
            raise
        return _pieces(answer["Body"])

    @off_the_loop
    def chunk_info(self, key: ChunkKey) -> StoredChunk | None:
        return self._info_at(self.key_of(key))

    def _info_at(self, name: str) -> StoredChunk | None:
        # Hashes the bytes the bucket holds now, never a hash stored beside them.
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as error:
            if _code(error) in MISSING:
                return None
            raise
        digest = chunk_hasher()
        size = 0
        for piece in _pieces(answer["Body"]):
            digest.update(piece)
            size += len(piece)
        return StoredChunk(size, digest.digest())

    @off_the_loop
    def stored_size(self, key: ChunkKey) -> int | None:
        return self._size_at(self.key_of(key))

    def _size_at(self, name: str) -> int | None:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as error:
            if _code(error) in MISSING:
                return None
            raise
        return int(answer["ContentLength"])

    # -- deleting

    @off_the_loop
    def delete_chunk(self, key: ChunkKey) -> None:
        # Deleting a key that is not there succeeds: S3's DELETE is idempotent.
        self.client.delete_object(Bucket=self.bucket, Key=self.key_of(key))

    @off_the_loop
    def delete_version(self, object_id: str, version: int) -> None:
        self._delete_under(self._version_prefix(object_id, version))

    @off_the_loop
    def delete_object(self, object_id: str) -> None:
        self._delete_under(self._object_prefix(object_id))

    def _delete_under(self, prefix: str) -> None:
        batch: list[ObjectIdentifierTypeDef] = []
        for item in self._listing(prefix):
            batch.append({"Key": item["Key"]})
            if len(batch) == DELETE_BATCH:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, batch: list[ObjectIdentifierTypeDef]) -> None:
        answer = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
        )
        if answer.get("Errors"):
            # Logged by the caller's error handling; the cleanup job's orphan pass retries.
            raise OSError(
                f"the bucket kept {len(answer['Errors'])} object(s) it was asked to delete"
            )

    # -- the cleanup job

    @off_the_loop
    def stored_versions(self) -> Iterator[StoredVersion]:
        """Every (object, version) with objects in the bucket, with its newest change.

        ListObjectsV2 answers keys in order, so one version's keys come together (``v1/`` sorts
        before ``v10/``): each is yielded as soon as the next begins, in flat memory."""
        current: tuple[str, int] | None = None
        latest = 0.0
        for item in self._listing(self.root):
            found = self._version_of(item["Key"])
            if found is None:
                continue
            if found != current:
                if current is not None:
                    yield StoredVersion(current[0], current[1], latest)
                current, latest = found, 0.0
            latest = max(latest, item["LastModified"].timestamp())
        if current is not None:
            yield StoredVersion(current[0], current[1], latest)

    def _version_of(self, name: str) -> tuple[str, int] | None:
        parts = name.removeprefix(self.root).split("/")
        if len(parts) != 4 or not parts[1][1:].isdigit() or parts[1][:1] != "v":
            return None  # not a chunk of ours: leave it be
        try:
            check_object_id(parts[0])
        except ValueError:
            return None
        return parts[0], int(parts[1][1:])

    @off_the_loop
    def remove_stale_incoming(self, older_than_seconds: float) -> int:
        """Nothing to remove: a PUT is atomic, so an interrupted write leaves no object."""
        return 0

    def _listing(self, prefix: str) -> Iterator[ObjectTypeDef]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            yield from page.get("Contents", [])


class _S3Writes:
    """The chunks of one request in the bucket (portal.blobstore.ChunkWrites). Each is put as
    soon as it has arrived (its PutObject is atomic and durable when it answers), so one chunk
    at most is held in memory, and ``finish`` has nothing left to do."""

    def __init__(self, store: S3BlobStore) -> None:
        self.store = store
        self.written: list[ChunkKey] = []
        self.aside: list[ReceivedChunk] = []

    async def write(
        self, key: ChunkKey, stream: AsyncIterable[bytes], *, max_size: int
    ) -> StoredChunk:
        try:
            stored = await self.store.put_streamed(key, stream, max_size=max_size)
        except ChunkConflict as conflict:
            if conflict.received is None:
                raise
            self.aside.append(conflict.received)
            return conflict.received.stored
        self.written.append(key)
        return stored

    def finish(self) -> None:
        """Nothing: every chunk was put as it ended."""

    def close(self) -> None:
        self.aside.clear()  # only in memory


def _kept_bytes(received: ReceivedChunk) -> bytearray:
    if not isinstance(received.kept, bytearray):
        raise TypeError("not kept aside by the S3 store")
    return received.kept


def _absorb(digest: hashlib.blake2b, pieces: list[bytes]) -> None:
    for piece in pieces:
        digest.update(piece)


def _pieces(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_PIECE)
    finally:
        body.close()
