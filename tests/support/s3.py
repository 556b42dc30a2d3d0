"""A throwaway S3-speaking server for one test session: moto's standalone server.

It runs as a subprocess (``python -m moto.server``) on a free port on 127.0.0.1 and keeps
everything in its memory, so stopping it deletes everything. The portal talks to it over HTTP
with boto3, exactly as it would to MinIO or AWS: nothing in the portal is patched. Each test
gets a bucket of its own (:meth:`S3Server.new_bucket`).
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from tests.support.ports import free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # type stubs only (boto3-stubs, a dev extra)

START_TIMEOUT = 30.0
REGION = "us-east-1"
# moto accepts any credentials; the portal is given these through its own settings.
ACCESS_KEY = "portal-test-access"
SECRET_KEY = "portal-test-secret"


class S3ServerError(RuntimeError):
    """The throwaway S3 server could not be started."""


class S3Server:
    """Start with :meth:`start` (or ``with``); :meth:`stop` ends it and everything it held."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._client: S3Client | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> S3Client:
        """A client of the tests' own, to set up buckets and to reach objects directly (made
        once: a client takes about a second to make)."""
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> S3Client:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        name = f"portal-test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The PORTAL_* settings of a portal that keeps its blobs in ``bucket``."""
        return {
            "PORTAL_BLOB_STORE": "s3",
            "PORTAL_S3_BUCKET": bucket,
            "PORTAL_S3_ENDPOINT_URL": self.endpoint_url,
            "PORTAL_S3_REGION": REGION,
            "PORTAL_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "PORTAL_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def start(self) -> S3Server:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 4):
            self.port = free_port()
            log = self.log_dir / f"moto-{self.port}.log"
            with log.open("wb") as output:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                self._wait_until_ready(log)
                return self
            except S3ServerError:
                self.stop()
                # Another process took the port between free_port() and the bind: try another.
                if b"address already in use" not in log.read_bytes().lower() or attempt == 3:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover (the loop returns or raises)

    def _wait_until_ready(self, log: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise S3ServerError(f"moto's server stopped:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(  # noqa: S310 (our own server on the loopback)
                    f"{self.endpoint_url}/moto-api/", timeout=2
                ):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise S3ServerError(f"moto's server did not answer within {START_TIMEOUT:.0f}s")

    def stop(self) -> None:
        """Safe to call twice."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
