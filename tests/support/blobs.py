"""What a portal's blob store holds, reached behind the portal's back: the files in its data
folder, or the objects in its bucket. For tests that run on both stores (``blob_store_env``)
and must look at, damage or remove stored chunks as a crash or a breached store would."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from portal.blobstore import INCOMING_PREFIX, ChunkKey, FilesystemBlobStore
from portal.blobstore_s3 import S3BlobStore, client_for
from portal.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # type stubs only (boto3-stubs, a dev extra)


class StoredBlobs:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._s3: S3BlobStore | None = None
        if settings.s3 is not None:
            self._s3 = S3BlobStore(client_for(settings.s3), settings.s3.bucket, settings.s3.prefix)

    @property
    def is_s3(self) -> bool:
        return self._s3 is not None

    @property
    def _client(self) -> S3Client:
        assert self._s3 is not None
        return self._s3.client

    def _path(self, key: ChunkKey) -> Path:
        return FilesystemBlobStore(self.settings.blobs_dir)._path(key)

    def chunks(self) -> list[str]:
        """Every stored chunk's name (file path or object key), sorted."""
        if self._s3 is None:
            return sorted(str(p) for p in self.settings.blobs_dir.rglob("*.chunk"))
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._s3.bucket, Prefix=""
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def bucket_contents(self) -> dict[str, bytes]:
        """For leak searches: each object's key, metadata, content type and bytes, by key
        (empty for the filesystem store, whose files are in the data folder)."""
        if self._s3 is None:
            return {}
        found = {}
        for name in self.chunks():
            answer = self._client.get_object(Bucket=self._s3.bucket, Key=name)
            described = f"{name} {answer.get('Metadata')} {answer.get('ContentType')} ".encode()
            found[f"the bucket, {name}"] = described + answer["Body"].read()
        return found

    def incoming(self) -> list[str]:
        """Half-written chunks (the filesystem's temporary files; a bucket has none)."""
        if self._s3 is None:
            return sorted(p.name for p in self.settings.blobs_dir.rglob(f"{INCOMING_PREFIX}*"))
        return []

    def exists(self, key: ChunkKey) -> bool:
        if self._s3 is None:
            return self._path(key).is_file()
        return self._s3.stored_size(key) is not None

    def read(self, key: ChunkKey) -> bytes:
        if self._s3 is None:
            return self._path(key).read_bytes()
        return self._client.get_object(Bucket=self._s3.bucket, Key=self._s3.key_of(key))[
            "Body"
        ].read()

    def overwrite(self, key: ChunkKey, data: bytes) -> None:
        """Replace a chunk's bytes in place, as a breached store could."""
        if self._s3 is None:
            self._path(key).write_bytes(data)
        else:
            self._client.put_object(Bucket=self._s3.bucket, Key=self._s3.key_of(key), Body=data)

    def remove(self, key: ChunkKey) -> None:
        """Lose a chunk, as a crash before its name was durable could."""
        if self._s3 is None:
            self._path(key).unlink()
        else:
            self._client.delete_object(Bucket=self._s3.bucket, Key=self._s3.key_of(key))

    def plant(self, key: ChunkKey, data: bytes, *, age_seconds: float = 0.0) -> None:
        """A chunk no row names (a crash between the write and its row), ``age_seconds`` old.

        A bucket sets an object's time itself: there the age stays 0."""
        if self._s3 is not None:
            self.overwrite(key, data)
            return
        path = self._path(key)
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        then = time.time() - age_seconds
        for changed in [path, path.parent, path.parent.parent]:
            os.utime(changed, (then, then))
