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

    .venv/bin/python bench/ingest.py [--sizes 100M,1G] [--parallel 3] [--batch 8] [--rounds N]

Each size gets a fresh server and data folder. A size is uploaded ``--rounds`` times each way
(default 5 at 100 MiB, 1 at 1 GiB: a 100 MiB upload lasts about half a second, so one run is
decided by its ends); each round's ratios are printed, then the median round of each way.
Targets: ratio >= 0.7, RSS growth < 64 MiB.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from portal import protocol
from portal.blobstore import chunk_hasher
from portal.db import make_engine
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.support.cpu import cpu_seconds as process_cpu_seconds
from tests.support.cpu import machine_busy_seconds
from tests.support.env import portal_env
from tests.support.live_server import LiveServer, start_live_server, tail
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
FULL = protocol.CHUNK_SIZE + 40
CORES = os.cpu_count() or 1


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


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used (/proc/<pid>/stat), all threads."""
    return sum(process_cpu_seconds(pid) for pid in pids)


def start_profiles(pids: list[int], folder: Path | None) -> list[subprocess.Popen[bytes]]:
    """py-spy (pip install py-spy) sampling each server process, if asked: folded stacks in
    ``folder``/<pid>.txt, for flame graphs or a quick count of where the time goes."""
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    args = ["record", "--rate", "250", "--format", "raw", "--nonblocking"]
    return [
        subprocess.Popen(
            [spy, *args, "--output", str(folder / f"{pid}.txt"), "--pid", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def stop_profiles(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file and exits
    for spy in spies:
        spy.wait(30)


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


def batches(chunks: list[bytes], batch: int) -> list[tuple[int, list[bytes]]]:
    """Consecutive chunks, ``batch`` to a PUT: (index of the first, the chunks)."""
    return [(first, chunks[first : first + batch]) for first in range(0, len(chunks), batch)]


def chunk_list(group: list[bytes]) -> str:
    """The ``X-Chunks`` header of a batch PUT: each chunk's size and hash, in order."""
    return ",".join(f"{len(c)}:{protocol.b64encode(protocol.chunk_hash(c))}" for c in group)


def put_all(
    port: int,
    path: Callable[[int], str],
    headers: dict[str, str],
    groups: list[tuple[int, list[bytes], str]],
    parallel: int,
) -> float:
    """PUT every group (first index, chunks, X-Chunks), ``parallel`` keep-alive connections at
    once; returns seconds. A body goes out chunk after chunk (no joined copy) with its
    Content-Length."""
    connections: Queue[http.client.HTTPConnection] = Queue()
    for _ in range(parallel):
        connections.put(http.client.HTTPConnection("127.0.0.1", port, timeout=120))

    def put(item: tuple[int, list[bytes], str]) -> None:
        first, group, listed = item
        connection = connections.get()
        try:
            extra = {"Content-Length": str(sum(len(c) for c in group))}
            if listed:
                extra["X-Chunks"] = listed
            connection.request("PUT", path(first), group, {**headers, **extra})
            response = connection.getresponse()
            answer = response.read()
            assert response.status == 200, answer
        finally:
            connections.put(connection)

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(put, groups))
    seconds = time.perf_counter() - start
    while not connections.empty():
        connections.get().close()
    return seconds


@dataclass(frozen=True)
class Spent:
    """What one way of storing the bytes took: seconds, and the CPU seconds of the server, of
    this process (the client, or the disk baseline's writer), and of the whole machine (the
    rest of it is the kernel's flushing to the disk, and anything else running)."""

    seconds: float
    server: float
    client: float
    machine: float

    def line(self, label: str) -> str:
        other = self.machine - self.server - self.client
        busy = self.machine / (self.seconds * CORES)
        return (
            f"    {label}: {self.seconds:.2f} s; CPU s: server {self.server:.2f}, client "
            f"{self.client:.2f}, else (kernel flushing, other work) {other:.2f}; cores busy "
            f"{100 * busy:.0f} %"
        )


def measured(work: Callable[[], float], server_pids: list[int]) -> Spent:
    """``work`` (which returns its seconds) with the CPU it and the machine spent meanwhile."""
    server, client = cpu_seconds(server_pids), process_cpu_seconds(os.getpid())
    machine = machine_busy_seconds()
    seconds = work()
    return Spent(
        seconds,
        cpu_seconds(server_pids) - server,
        process_cpu_seconds(os.getpid()) - client,
        machine_busy_seconds() - machine,
    )


def upload_groups(chunks: list[bytes], batch: int) -> list[tuple[int, list[bytes], str]]:
    """What each PUT carries; with ``batch`` 1 a plain single-chunk PUT (no X-Chunks)."""
    return [
        (first, group, chunk_list(group) if batch > 1 else "")
        for first, group in batches(chunks, batch)
    ]


def upload(
    server: LiveServer,
    author: Person,
    object_id: str,
    groups: list[tuple[int, list[bytes], str]],
    parallel: int,
) -> float:
    """PUT every chunk to the portal; returns seconds."""
    cookie = "; ".join(f"{name}={author.jar[name]}" for name in author.jar)
    headers = {
        "Cookie": cookie,
        "X-CSRF-Token": author.csrf(),
        "Content-Type": "application/octet-stream",
    }
    path = f"/api/uploads/{object_id}/1/1/"
    return put_all(server.port, lambda first: f"{path}{first}", headers, groups, parallel)


def warm_up(server: LiveServer, author: Person, batch: int, parallel: int, workers: int) -> None:
    """A few PUTs of another message's small chunks before the clock starts, as the bare
    endpoint gets its warm-up PUTs: each serving process has then run the upload path once
    (SQLAlchemy compiles and caches its statements on first use), so both are measured in
    their steady state. The small upload stays pending; nobody submits it."""
    object_id = author.post_json("/api/letters/objects").json()["object_id"]
    chunks = [os.urandom(1000) for _ in range(batch * 4 * workers)]
    started = author.start_upload(object_id, 1, sum(len(c) for c in chunks))
    assert started.status_code == 200, started.text
    upload(server, author, object_id, upload_groups(chunks, batch), parallel)


def server_command(server: str, app: str, port: int, workers: int) -> list[str]:
    """Serve the ASGI app factory ``app`` as ``portal serve`` would with uvicorn (uvloop and
    httptools, chosen by uvicorn's "auto"; access log on; no server header), or with granian
    (its defaults: its own HTTP/1 in Rust, uvloop)."""
    if server == "granian":
        return [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-ws",
            "--access-log",
            app,
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-server-header",
        "--log-level",
        "info",
    ]


def start_bare(folder: Path, workers: int, server: str) -> tuple[subprocess.Popen[bytes], int]:
    """bench/bare_ingest.py, served like the portal (``server_command``)."""
    folder.mkdir(parents=True)
    port = free_port()
    env = {**os.environ, "BARE_INGEST_DIR": str(folder)}
    log = (folder.parent / "bare.log").open("wb")
    process = subprocess.Popen(
        server_command(server, "bench.bare_ingest:app", port, workers),
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 60
    answered = 0
    while answered < 2 * workers:  # every worker up (the socket may accept before they are)
        try:
            if httpx.put(f"http://127.0.0.1:{port}/bare/warm-up", timeout=5).status_code == 200:
                answered += 1
                continue
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the bare endpoint did not start")
        time.sleep(0.1)
    while len(server_processes(process.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    return process, port


def bare_upload(
    folder: Path,
    groups: list[tuple[int, list[bytes], str]],
    parallel: int,
    workers: int,
    server: str,
) -> Spent:
    """The same PUTs to the bare streaming endpoint: what they took."""
    process, port = start_bare(folder, workers, server)
    try:
        headers = {"Content-Type": "application/octet-stream"}
        return measured(
            lambda: put_all(port, lambda first: f"/bare/{first}", headers, groups, parallel),
            server_processes(process.pid),
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def start_portal(
    data_dir: Path, database_url: str, limits: dict[str, str], workers: int, server: str
) -> LiveServer:
    """``portal serve --workers N`` (uvicorn); or, for granian, ``portal migrate`` and the
    same app factory as ``portal serve --workers`` (portal.app:app_from_environment)."""
    if server == "uvicorn":
        return start_live_server(
            data_dir=data_dir,
            database_url=database_url,
            env_overrides=limits,
            label="bench",
            serve_args=["--workers", str(workers)],
        )
    data_dir.mkdir(mode=0o700, parents=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(portal_env(data_dir=data_dir, database_url=database_url, base_url=base_url))
    env.update(limits)
    portal = Path(sys.executable).parent / "portal"
    subprocess.run([str(portal), "migrate"], cwd=REPO, env=env, check=True, capture_output=True)
    stdout_path, stderr_path = data_dir / "bench.stdout.log", data_dir / "bench.stderr.log"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            server_command(server, "portal.app:app_from_environment", port, workers),
            cwd=REPO,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    live = LiveServer(
        base_url=base_url,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        env=env,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        process=process,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return live
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            live.stop()
            raise RuntimeError(f"{server} did not serve the portal:\n{tail(stderr_path)}")
        time.sleep(0.1)


def disk_baseline(folder: Path, chunks: list[bytes]) -> Spent:
    """The same bytes to the same disk: one file per chunk, write + fsync + close, in order."""
    folder.mkdir(parents=True)

    def write() -> float:
        start = time.perf_counter()
        for index, chunk in enumerate(chunks):
            fd = os.open(folder / f"{index}.chunk", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        return time.perf_counter() - start

    spent = measured(write, [])
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return spent


def disk_pattern_reference(folder: Path, chunks: list[bytes], parallel: int, batch: int) -> Spent:
    """For reference, not the target's baseline: the same bytes written the way the portal's
    blob store writes them, without HTTP, hashing or the database: ``parallel`` writers (as
    many as PUTs at once), each taking ``batch`` chunks at a time, each chunk created under a
    temporary name, written in two halves, its writeback started at its end and closed; then
    each fsynced, linked to its name and its temporary name removed (blobstore.py,
    ``_FilesystemWrites``). The disk baseline above writes and fsyncs one chunk after the
    other, with one fsync under way at a time: a slower pattern than the blob store's, so a
    ratio to it flatters the API; the ratio to this one does not."""
    folder.mkdir(parents=True)

    def put(first: int) -> None:
        temps: list[tuple[int, str]] = []
        for index in range(first, min(first + batch, len(chunks))):
            fd, name = tempfile.mkstemp(dir=folder, prefix=".incoming-")
            view = memoryview(chunks[index])
            half = len(view) // 2
            os.writev(fd, [view[:half]])
            os.writev(fd, [view[half:]])
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
            temps.append((index, name))
        for index, name in temps:
            fd = os.open(name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.link(name, folder / f"{index}.chunk")
            os.unlink(name)

    def write() -> float:
        start = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(put, range(0, len(chunks), batch)))
        return time.perf_counter() - start

    spent = measured(write, [])
    shutil.rmtree(folder)
    return spent


def hash_check_seconds(chunks: list[bytes]) -> float:
    """CPU seconds of the chunk hash check the protocol requires, alone: the server's own keyed
    BLAKE2b-256 (blobstore.chunk_hasher, hashlib in C) over the same bytes, in this process, in
    64 KiB pieces as they come off the socket. The bare endpoint does not hash; the API must."""
    start = time.thread_time()
    for chunk in chunks:
        digest = chunk_hasher()
        view = memoryview(chunk)
        for offset in range(0, len(view), 64 * 1024):
            digest.update(view[offset : offset + 64 * 1024])
        digest.digest()
    return time.thread_time() - start


def median(runs: list[Spent]) -> Spent:
    """The run in the middle by seconds (the slower of the two middle ones for an even count)."""
    return sorted(runs, key=lambda spent: spent.seconds)[len(runs) // 2]


def rounds_for(size: int) -> int:
    """Rounds by default: a 100 MiB upload lasts about half a second, so start-up and the last
    PUTs' fsyncs decide a single run; five rounds and their medians say more. 1 GiB: one."""
    return max(1, min(5, round(512 * MIB / size)))


def run(
    size: int,
    parallel: int,
    workers: int,
    batch: int,
    server_kind: str,
    profile: Path | None = None,
    rounds: int = 1,
) -> None:
    api_runs: list[Spent] = []
    growths: list[int] = []
    with tempfile.TemporaryDirectory() as temp:
        data_dir = Path(temp) / "data"
        database_url = f"sqlite:///{data_dir / 'portal.sqlite3'}"
        limits = {
            "PORTAL_MAX_MESSAGE_BYTES": str(size + MIB),
            "PORTAL_CASE_QUOTA_BYTES": str((rounds + 3) * size + 4 * MIB),
            "PORTAL_STORAGE_CAP_BYTES": str((rounds + 3) * size + 4 * MIB),
        }
        server = start_portal(data_dir, database_url, limits, workers, server_kind)
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
                warm_up(server, author, batch, parallel, workers)
                pids = server_processes(server.process.pid)
                groups = upload_groups(chunks, batch)
                me = author.get("/api/me/case").json()
                for round_ in range(rounds):
                    if round_:  # each round a message of its own, sealed to its own object
                        object_id = author.post_json("/api/letters/objects").json()["object_id"]
                        chunks, body = seal_recording(
                            author, world.case_key_as_seen_by(author), object_id, size
                        )
                        groups = upload_groups(chunks, batch)
                    started = author.start_upload(object_id, 1, total)
                    assert started.status_code == 200, started.text
                    rss_before = {pid: status_kib(pid, "VmRSS") for pid in pids}
                    for pid in pids:
                        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
                    spies = start_profiles(pids, profile) if not round_ else []
                    put = functools.partial(upload, server, author, object_id, groups, parallel)
                    api_runs.append(measured(put, pids))
                    stop_profiles(spies)
                    # All serving processes together: each grew by its own peak.
                    growths.append(sum(status_kib(pid, "VmHWM") - rss_before[pid] for pid in pids))
                    body["recipient_participant_id"] = me["recipients"][0]["participant_id"]
                    submitted = author.post_json("/api/letters", body)
                    assert submitted.status_code == 200, submitted.text
        finally:
            engine.dispose()
            server.stop()
        # After the portal stopped, so neither competes with the other for the cores; each
        # as many rounds as the API had, one after another.
        bare_runs, disk_runs, pattern_runs = [], [], []
        for _ in range(rounds):
            bare_runs.append(bare_upload(data_dir / "bare", groups, parallel, workers, server_kind))
            disk_runs.append(disk_baseline(data_dir / "baseline", chunks))
            pattern_runs.append(
                disk_pattern_reference(data_dir / "pattern", chunks, parallel, batch)
            )
        hashing = hash_check_seconds(chunks)
        if rounds > 1:
            print(f"{size / MIB:.0f} MiB, each of {rounds} rounds (API / disk, API / bare):")
            for number, (a, b, d) in enumerate(zip(api_runs, bare_runs, disk_runs, strict=True)):
                print(
                    f"  round {number + 1}: API {a.seconds:.2f} s, bare {b.seconds:.2f} s, disk "
                    f"{d.seconds:.2f} s: {d.seconds / a.seconds:.2f}, {b.seconds / a.seconds:.2f}"
                )
            print("  below: the median round of each (by seconds)")
        api, bare_spent = median(api_runs), median(bare_runs)
        disk, pattern = median(disk_runs), median(pattern_runs)
        growth = max(growths)
        seconds, cpu = api.seconds, api.server
        bare, bare_cpu, baseline = bare_spent.seconds, bare_spent.server, disk.seconds
        print(f"{size / MIB:.0f} MiB message ({len(chunks)} chunks, {total} bytes of ciphertext):")
        shape = f"{batch} chunk{'s' if batch > 1 else ''} per PUT"
        print(
            f"  PUT through the API ({shape}, {parallel} at once, {server_kind} with {workers}"
            f" worker{'s' if workers > 1 else ''}): {total / MIB / seconds:.1f} MiB/s"
        )
        print(f"  bare streaming endpoint (same PUTs, same server): {total / MIB / bare:.1f} MiB/s")
        print(f"  disk baseline (write + fsync per chunk file): {total / MIB / baseline:.1f} MiB/s")
        print(
            f"  ratios: API / disk baseline {baseline / seconds:.2f}, "
            f"API / bare endpoint {bare / seconds:.2f}"
        )
        print(
            f"  for reference, the disk written as the blob store writes ({parallel} writers, "
            f"{batch} chunks then their fsyncs, writeback started at each chunk's end; no HTTP, "
            f"hashing or database): {total / MIB / pattern.seconds:.1f} MiB/s; API / that "
            f"{pattern.seconds / seconds:.2f}"
        )
        gib = total / (1024 * MIB)
        print(
            f"  server CPU per GiB (all processes; steadier than MiB/s when the cores are "
            f"shared): API {cpu / gib:.1f} s, bare endpoint {bare_cpu / gib:.1f} s, "
            f"ratio (bare / API) {bare_cpu / cpu:.2f}"
        )
        # What the API spends beyond the bare endpoint, taken apart: the hash check (measured
        # above, side by side) and the rest, per PUT (authorising and recording: two short
        # transactions, the session, the thread hops), which fewer, larger PUTs divide.
        rest = cpu - bare_cpu - hashing
        print(
            f"  beyond the bare endpoint: {(cpu - bare_cpu) / gib:.1f} s per GiB = the chunk hash "
            f"check {hashing / gib:.1f} s (keyed BLAKE2b-256 of the same bytes in this process; "
            f"the protocol requires it) + the rest {rest / gib:.1f} s "
            f"({1000 * rest / len(groups):.1f} ms per PUT over {len(groups)} PUTs)"
        )
        print(f"  API / (bare endpoint + hash check), server CPU: {(bare_cpu + hashing) / cpu:.2f}")
        # Where each run's time went: a run whose cores are busy nearly all the time is bound
        # by the CPU (the server's, the client's and the kernel's, all on the same cores), one
        # with idle cores by the disk.
        print("  time and CPU of each (the client: this process, the PUTs' sender or the writer)")
        print(api.line("API"))
        print(bare_spent.line("bare endpoint"))
        print(disk.line("disk baseline"))
        print(pattern.line("disk, the blob store's pattern"))
        print(
            f"  server peak RSS growth ({len(pids)} process{'es' if len(pids) > 1 else ''}): "
            f"{growth / 1024:.1f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100M,1G", help="comma separated, e.g. 100M,1G")
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument(
        "--batch",
        type=int,
        default=8,
        help="chunks per PUT, as the browser sends (media/upload.js BATCH_CHUNKS); 1: one "
        "chunk, no X-Chunks",
    )
    parser.add_argument(
        "--server",
        default="uvicorn",
        choices=["uvicorn", "granian"],
        help="uvicorn: portal serve; granian: the same app under granian (pip install granian)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="portal serve --workers (one per core here)"
    )
    parser.add_argument(
        "--profile", type=Path, help="a folder for py-spy profiles of the server during the upload"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="uploads of each size, each way (the median is reported); default: 5 for 100 MiB "
        "and smaller, fewer above, 1 from 1 GiB",
    )
    args = parser.parse_args()
    for text in args.sizes.split(","):
        size = parse_size(text)
        rounds = args.rounds or rounds_for(size)
        run(size, args.parallel, args.workers, args.batch, args.server, args.profile, rounds)


if __name__ == "__main__":
    main()
