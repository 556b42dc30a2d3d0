"""Media ingest: upload throughput and server memory, through the real server over HTTP.

Starts ``portal serve`` (uvicorn, SQLite, a temporary data folder), signs up a facilitator and
two participants with the real protocol (tests/factories.py), seals a video message whose
recording part is SIZE bytes of ciphertext (1 MiB plaintext chunks, real XChaCha20-Poly1305),
uploads its chunks with PUT (``--parallel`` at once, one keep-alive connection each), submits it,
and prints:

- throughput of the uploads, and the same as a ratio of the disk baseline: the same chunk bytes
  written by this process to the same disk, one file per chunk, each ``write`` + ``fsync`` +
  ``close``, sequentially (what the blob store must do at least, without HTTP, hashing or
  the database);
- the server's peak RSS growth during the upload: VmHWM after minus VmRSS before, read from
  /proc/<pid>/status (VmHWM reset through /proc/<pid>/clear_refs just before).

    .venv/bin/python bench/ingest.py [--sizes 100M,1G] [--parallel 3]

Each size gets a fresh server and data folder. Targets: ratio >= 0.7, RSS growth < 64 MiB.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from portal import protocol
from portal.db import make_engine
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.support.live_server import LiveServer, start_live_server

MIB = 1024 * 1024
FULL = protocol.CHUNK_SIZE + 40


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": MIB, "G": 1024 * MIB}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def server_processes(pid: int) -> list[int]:
    """The serving processes: the process itself, or with --workers its worker children."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children] or [pid]


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def seal_recording(
    author: Person, case_pk: bytes, object_id: str, size: int
) -> tuple[list[bytes], dict[str, object]]:
    """Chunks of a recording part whose ciphertext is ``size`` bytes, and the submit body."""
    key = protocol.generate_content_key()
    count = max(1, size // FULL)
    last_plain = max(0, size - (count - 1) * FULL - 40)
    block = os.urandom(protocol.CHUNK_SIZE)  # plaintext; every chunk gets a fresh nonce
    chunks = [
        protocol.encrypt_chunk(
            key, object_id, 1, 1, i, i == count - 1, block if i < count - 1 else block[:last_plain]
        )
        for i in range(count)
    ]
    text = protocol.encrypt_chunk(key, object_id, 1, 0, 0, True, b"A recording.")
    b64 = protocol.b64encode

    def listed(kind: str, mime: str, size_: int, hashes: list[bytes]) -> dict[str, object]:
        return {
            "kind": kind,
            "mime": mime,
            "name": "",
            "size": size_,
            "chunks": len(hashes),
            "hashes": [b64(h) for h in hashes],
        }

    manifest = protocol.encrypt_manifest(
        key,
        object_id,
        1,
        {
            "v": 1,
            "object_id": object_id,
            "version": 1,
            "created_at": "2026-11-22T12:00:00Z",
            "author": author.account_id,
            "parts": [
                listed("letter", "text/plain; charset=utf-8", 12, [protocol.chunk_hash(text)]),
                listed(
                    "recording",
                    "video/webm;codecs=vp8,opus",
                    (count - 1) * protocol.CHUNK_SIZE + last_plain,
                    [protocol.chunk_hash(c) for c in chunks],
                ),
            ],
        },
    )
    digest = protocol.manifest_hash(manifest)
    letter = {
        "object_id": object_id,
        "version": 1,
        "manifest": b64(manifest),
        "manifest_hash": b64(digest),
        "chunks": [{"part": 0, "index": 0, "final": True, "data": b64(text)}],
        "stored_chunks": [
            {
                "part": 1,
                "index": i,
                "final": i == count - 1,
                "size": len(c),
                "hash": b64(protocol.chunk_hash(c)),
            }
            for i, c in enumerate(chunks)
        ],
    }
    body: dict[str, object] = {
        "letter": letter,
        "grant_to_case": b64(
            protocol.make_content_grant(author.secret_key, case_pk, object_id, 1, key, digest)
        ),
        "grant_to_author": b64(
            protocol.make_content_grant(
                author.secret_key, author.public_key, object_id, 1, key, digest
            )
        ),
        "format": "video",
        "length": {"seconds": 600},
    }
    return chunks, body


def upload(
    server: LiveServer, author: Person, object_id: str, chunks: list[bytes], parallel: int
) -> float:
    """PUT every chunk, ``parallel`` connections at once; returns seconds."""
    cookie = "; ".join(f"{name}={author.jar[name]}" for name in author.jar)
    headers = {
        "Cookie": cookie,
        "X-CSRF-Token": author.csrf(),
        "Content-Type": "application/octet-stream",
    }
    connections: Queue[http.client.HTTPConnection] = Queue()
    for _ in range(parallel):
        connections.put(http.client.HTTPConnection("127.0.0.1", server.port, timeout=120))

    def put(index: int) -> None:
        connection = connections.get()
        try:
            connection.request(
                "PUT", f"/api/uploads/{object_id}/1/1/{index}", chunks[index], headers
            )
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, body
        finally:
            connections.put(connection)

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(put, range(len(chunks))))
    seconds = time.perf_counter() - start
    while not connections.empty():
        connections.get().close()
    return seconds


def disk_baseline(folder: Path, chunks: list[bytes]) -> float:
    """The same bytes to the same disk: one file per chunk, write + fsync + close, in order."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for index, chunk in enumerate(chunks):
        fd = os.open(folder / f"{index}.chunk", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
    seconds = time.perf_counter() - start
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return seconds


def run(size: int, parallel: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as temp:
        data_dir = Path(temp) / "data"
        database_url = f"sqlite:///{data_dir / 'portal.sqlite3'}"
        limits = {
            "PORTAL_MAX_MESSAGE_BYTES": str(size + MIB),
            "PORTAL_CASE_QUOTA_BYTES": str(4 * size + 4 * MIB),
            "PORTAL_STORAGE_CAP_BYTES": str(4 * size + 4 * MIB),
        }
        server = start_live_server(
            data_dir=data_dir,
            database_url=database_url,
            env_overrides=limits,
            label="bench",
            serve_args=["--workers", str(workers)],
        )
        engine = make_engine(database_url)
        try:
            settings = Settings.from_env(
                {k: v for k, v in server.env.items() if k.startswith("PORTAL_")}
            )
            with httpx.Client(base_url=server.base_url, timeout=120) as client:
                world = CaseWorld.build(Portal(client, settings, engine))
                world.consent(world.responsible, ["letter", "video"])
                world.consent(world.harmed, ["letter", "video"])
                author = world.responsible
                object_id = author.post_json("/api/letters/objects").json()["object_id"]
                chunks, body = seal_recording(
                    author, world.case_key_as_seen_by(author), object_id, size
                )
                total = sum(len(c) for c in chunks)
                started = author.start_upload(object_id, 1, total)
                assert started.status_code == 200, started.text
                pids = server_processes(server.process.pid)
                rss_before = {pid: status_kib(pid, "VmRSS") for pid in pids}
                for pid in pids:
                    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
                seconds = upload(server, author, object_id, chunks, parallel)
                # All serving processes together: each grew by its own peak.
                growth = sum(status_kib(pid, "VmHWM") - rss_before[pid] for pid in pids)
                me = author.get("/api/me/case").json()
                body["recipient_participant_id"] = me["recipients"][0]["participant_id"]
                submitted = author.post_json("/api/letters", body)
                assert submitted.status_code == 200, submitted.text
            baseline = disk_baseline(data_dir / "baseline", chunks)
        finally:
            engine.dispose()
            server.stop()
        print(f"{size / MIB:.0f} MiB message ({len(chunks)} chunks, {total} bytes of ciphertext):")
        print(
            f"  PUT through the API ({parallel} at once, {workers} server worker"
            f"{'s' if workers > 1 else ''}): {total / MIB / seconds:.1f} MiB/s"
        )
        print(f"  disk baseline (write + fsync per chunk file): {total / MIB / baseline:.1f} MiB/s")
        print(f"  ratio (API / disk baseline): {baseline / seconds:.2f}")
        print(
            f"  server peak RSS growth ({len(pids)} process{'es' if len(pids) > 1 else ''}): "
            f"{growth / 1024:.1f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100M,1G", help="comma separated, e.g. 100M,1G")
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=2, help="portal serve --workers (one per core here)"
    )
    args = parser.parse_args()
    for size in args.sizes.split(","):
        run(parse_size(size), args.parallel, args.workers)


if __name__ == "__main__":
    main()
