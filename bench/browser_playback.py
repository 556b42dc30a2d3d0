"""Playback of a large video message: time to the first frame, and decrypt throughput.

Starts ``portal serve`` (uvicorn, SQLite, a temporary data folder), makes a case with real keys
over the HTTP API (tests/factories.py), and in headless Debian Chromium (fake camera and
microphone):

1. records a few seconds of real video with MediaRecorder (tests/support/media.record_webm: VP8
   and Opus in WebM, as the composer records), then repeats its clusters, their timecodes moved
   on each time, into a playable WebM of about SIZE bytes (500 MB by default);
2. the person responsible seals it (1 MiB chunks, XChaCha20-Poly1305, the manifest, the grants)
   and uploads it through the API; the facilitator reviews and approves it (tests/cases_world);
3. the person harmed signs in and presses "Open it now" on their home page. The time from that
   click to the first video frame the page shows (requestVideoFrameCallback; 'loadeddata' too)
   is printed, with how many of the message's chunks had been fetched by then. Target <= 1.5 s.
4. In the same page: decrypt throughput of the player's reading (static/js/media/open.js
   readChunks: fetch, check against the manifest, decrypt; in order, FETCH_BATCH chunks to a GET
   and READ_AHEAD chunks asked for ahead, each GET's chunks checked in a Worker as
   media/media-stream.js reads, after chunk 0 was read alone as the player does) over the whole
   part, against bare libsodium.js crypto_aead_xchacha20poly1305_ietf_decrypt of as many 1 MiB
   chunks already in memory, on the page's thread. Target ratio >= 0.5. With the CPU each
   takes: the server's, and the browser's split into the page's thread, the Workers and the
   rest (network service, browser process), and the bound two cores put on the ratio
   (2 x the bare AEAD's CPU / the player's CPU), which holds whatever else shares the cores.
5. Where the time goes: the portal's GETs alone (one chunk to a GET, 4 at once; and
   FETCH_BATCH to a GET, READ_AHEAD chunks' worth at once), the same GETs from a bare endpoint
   serving the same files (bench/bare_chunks.py), the portal's GETs taken as Blobs and read in
   a Worker (as the player takes them) and fetched in a Worker (its body read piece by piece
   into one buffer: what fetching there would cost), the checks alone in the player's Workers
   and on the page's thread, and CPU per chunk of the servers and the browser for each.

Not a test; never fails the build.

    .venv/bin/python bench/browser_playback.py [--megabytes 500] [--ahead 32] [--batch 16]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from portal import protocol
from portal.db import make_engine
from portal.settings import Settings
from tests.browser.pages.letters import participant_signs_in
from tests.cases_world import CaseWorld
from tests.factories import Portal
from tests.support.cpu import browser_cpu_seconds, browser_split_cpu_seconds, cpu_seconds
from tests.support.live_server import (
    LiveServer,
    LiveServerError,
    start_bare_app,
    start_live_server,
)
from tests.support.media import record_webm

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
VIDEO_MIME = "video/webm;codecs=vp8,opus"

# -- a long WebM from a short one ----------------------------------------------------------------

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
INFO = 0x1549A966
TRACKS = 0x1654AE6B
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
# Elements that may follow a cluster of unknown size at the segment's level (they end it).
SEGMENT_LEVEL = {CLUSTER, INFO, TRACKS, 0x114D9B74, 0x1C53BB6B, 0x1254C367, 0x1941A469, 0x1043A770}
UNKNOWN = -1


def read_id(data: bytes, at: int) -> tuple[int, int]:
    length = 9 - data[at].bit_length()
    return int.from_bytes(data[at : at + length], "big"), at + length


def read_size(data: bytes, at: int) -> tuple[int, int]:
    length = 9 - data[at].bit_length()
    value = data[at] & ((1 << (8 - length)) - 1)
    for byte in data[at + 1 : at + length]:
        value = (value << 8) | byte
    return (UNKNOWN if value == (1 << (7 * length)) - 1 else value), at + length


def element(ident: int, body: bytes) -> bytes:
    """An element with an 8-byte size."""
    return (
        ident.to_bytes((ident.bit_length() + 7) // 8, "big")
        + ((1 << 56) | len(body)).to_bytes(8, "big")
        + body
    )


def block_time(block: bytes) -> int:
    """A (Simple)Block's timecode, relative to its cluster: after the track number."""
    _track, at = read_size(block, 0)
    return int.from_bytes(block[at : at + 2], "big", signed=True)


def parse_webm(data: bytes) -> tuple[bytes, list[tuple[int, list[bytes]]], int]:
    """(EBML header + Info + Tracks, [(cluster timecode, raw child elements)], last time)."""
    ident, at = read_id(data, 0)
    assert ident == EBML, "not a WebM file"
    size, at = read_size(data, at)
    header = data[: at + size]
    at += size
    ident, at = read_id(data, at)
    assert ident == SEGMENT, "no Segment"
    size, at = read_size(data, at)
    end = len(data) if size == UNKNOWN else at + size
    kept = b""
    clusters: list[tuple[int, list[bytes]]] = []
    last = 0
    while at < end:
        start = at
        ident, at = read_id(data, at)
        size, at = read_size(data, at)
        if ident != CLUSTER:
            assert size != UNKNOWN, "an element of unknown size that is not a cluster"
            if ident in (INFO, TRACKS):
                kept += data[start : at + size]
            at += size
            continue
        stop = end if size == UNKNOWN else at + size
        timecode = 0
        children: list[bytes] = []
        while at < stop:
            child_start = at
            child, at = read_id(data, at)
            if size == UNKNOWN and child in SEGMENT_LEVEL:
                at = child_start  # the next cluster (or Cues...): this one has ended
                break
            child_size, at = read_size(data, at)
            body = data[at : at + child_size]
            if child == TIMECODE:
                timecode = int.from_bytes(body, "big")
            elif child == SIMPLE_BLOCK:
                children.append(data[child_start : at + child_size])
                last = max(last, timecode + block_time(body))
            elif child == BLOCK_GROUP:
                children.append(data[child_start : at + child_size])
                _block, inner = read_id(body, 0)
                _block_size, inner = read_size(body, inner)
                last = max(last, timecode + block_time(body[inner:]))
            at += child_size
        clusters.append((timecode, children))
    head = header + SEGMENT.to_bytes(4, "big") + bytes([0x01] + [0xFF] * 7) + kept
    return head, clusters, last


def looped_webm(recording: bytes, size: int) -> tuple[bytes, int]:
    """A WebM of about ``size`` bytes: the recording's clusters again and again, each time
    later by the recording's length, as one continuous video. Returns it and its length in ms
    (the default timecode scale: 1 ms)."""
    head, clusters, last = parse_webm(recording)
    period = last + 40  # one frame after the last
    pieces = [head]
    total = len(head)
    loops = 0
    while total < size:
        for timecode, children in clusters:
            cluster = element(
                CLUSTER,
                element(TIMECODE, (timecode + loops * period).to_bytes(8, "big"))
                + b"".join(children),
            )
            pieces.append(cluster)
            total += len(cluster)
        loops += 1
    return b"".join(pieces), loops * period


# -- in the browser ------------------------------------------------------------------------------

# Installed in every page before its own scripts (Playwright init script, not subject to the
# page's CSP): when "Open it now" is clicked, and when a <video> first has a frame.
WATCH = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const marks = (window.__bench = { click: null, frame: null, loadeddata: null });
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button") : null;
    if (button && button.textContent.trim() === "Open it now") marks.click = now();
  }, true);
  const seen = new WeakSet();
  new MutationObserver(() => {
    for (const video of document.querySelectorAll("video")) {
      if (seen.has(video)) continue;
      seen.add(video);
      video.addEventListener("loadeddata", () => { marks.loadeddata ??= now(); });
      video.requestVideoFrameCallback(() => { marks.frame ??= now(); });
    }
  }).observe(document, { childList: true, subtree: true });
})();
"""

MEASURE_DECRYPT = """
async ({ released, ahead, batch }) => {
  const p = await import("/static/js/crypto/protocol.js");
  await p.ready();
  const sodium = (await import("/static/vendor/libsodium-wrappers.mjs")).default;
  await sodium.ready;
  const { loadSecretKey } = await import("/static/js/client/session.js");
  const { openMessage, FETCH_BATCH, READ_AHEAD } = await import("/static/js/media/open.js");
  ahead ??= READ_AHEAD;
  batch ??= FETCH_BATCH;
  const keys = await loadSecretKey();
  const message = await openMessage(p, keys.secretKey, p.b64decode(released.sender_public_key),
    released);
  const part = message.parts[0];
  const CHUNK = 1024 * 1024;

  // 1. Bare AEAD decryption of as many 1 MiB chunks, already in memory (16 distinct ones).
  const key = sodium.randombytes_buf(32);
  const ad = new Uint8Array(64);
  // The plaintexts come from crypto.getRandomValues (64 KiB at most a call): libsodium.js's
  // randombytes_buf took 19 s for one MiB in this Chromium on a loaded machine (it is not
  // what is measured; the cipher's speed does not depend on the bytes).
  const randomChunk = () => {
    const data = new Uint8Array(CHUNK);
    for (let at = 0; at < CHUNK; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536));
    return data;
  };
  const sealed = Array.from({ length: 16 }, () => {
    const nonce = sodium.randombytes_buf(24);
    return [nonce, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      randomChunk(), ad, null, nonce, key)];
  });
  window.__benchBare = { sodium, sealed, ad, key, chunks: part.chunks };

  // The player reads chunk 0 alone when the recording is shown; the person then presses Play,
  // and the first GET of several starts the Workers (media/open-workers.js).
  await part.readChunk(0);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  window.__benchRead = { message, part, keys, released };
  return { chunks: part.chunks, ahead, batch };
}
"""

# 1. Bare AEAD decryption of as many 1 MiB chunks as the part has, already in memory, on the
# page's thread (its CPU read around this call).
BARE_AEAD = """
() => {
  const { sodium, sealed, ad, key, chunks } = window.__benchBare;
  const t0 = performance.now();
  for (let index = 0; index < chunks; index += 1) {
    const [nonce, data] = sealed[index % sealed.length];
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, data, ad, nonce, key);
  }
  window.__benchBare = null;
  return (performance.now() - t0) / 1000;
}
"""

# 2. The player's reading: every chunk fetched, checked and decrypted, in order, `batch` to a
# GET and `ahead` asked for ahead (open.js readChunks, as media/media-stream.js reads): each
# GET's chunks checked in a Worker while the page receives the next GET.
PLAYER_READS = """
async ({ ahead, batch }) => {
  const { part } = window.__benchRead;
  let bytes = 0;
  const t0 = performance.now();
  for await (const plaintext of part.readChunks(0, { ahead, batch })) {
    bytes += plaintext.length;
  }
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}
"""

# 3. Where the time goes: the same chunks' GETs alone (bytes only, no checks; `batch` chunks to
# a GET, `lanes` GETs at once), from the portal and, for reference, from a bare endpoint that
# serves the same files (bench/bare_chunks.py); then the checks alone (protocol.openChunk: hash
# and decrypt) over chunks already fetched.
GETS_ALONE = """
async ({ base, credentials, batch, lanes, mode }) => {
  const { part } = window.__benchRead;
  // mode "arrayBuffer": each answer read on the page. "blob": taken as a Blob on the page and
  // read into memory in a Worker. "worker": fetched and read in a Worker (its body read piece by
  // piece into one buffer of the answer's length), the page only asking.
  let reader = null;
  const waiting = new Map();
  const inWorker = mode === "blob" || mode === "worker";
  if (inWorker) {
    reader = new Worker(URL.createObjectURL(new Blob([mode === "blob"
      ? "onmessage = async ({ data }) => { const body = await data.blob.arrayBuffer(); " +
        "postMessage({ id: data.id, body }, [body]); };"
      : "onmessage = async ({ data }) => { const response = await fetch(data.url, " +
        "{ credentials: data.credentials, cache: 'no-store' }); " +
        "const body = new Uint8Array(Number(response.headers.get('Content-Length'))); " +
        "const pieces = response.body.getReader(); let at = 0; " +
        "for (;;) { const { done, value } = await pieces.read(); if (done) break; " +
        "body.set(value, at); at += value.length; } " +
        "postMessage({ id: data.id, body: body.buffer, " +
        "listed: response.headers.get('X-Chunks') }, [body.buffer]); };"],
      { type: "text/javascript" })));
    reader.onmessage = ({ data }) => {
      waiting.get(data.id)(data);
      waiting.delete(data.id);
    };
  }
  let nextId = 0;
  const ask = (message) => new Promise((resolve) => {
    nextId += 1;
    waiting.set(nextId, resolve);
    reader.postMessage({ id: nextId, ...message });
  });
  const get = async (index, count) => {
    const url = count > 1 ? `${base}${index}?count=${count}` : base + index;
    let body;
    let listed;
    if (mode === "worker") {
      const answer = await ask({ url: new URL(url, location.href).href, credentials });
      body = new Uint8Array(answer.body);
      listed = answer.listed;
    } else {
      const response = await fetch(url, { credentials, cache: "no-store" });
      if (!response.ok) throw new Error(`GET ${index} answered ${response.status}`);
      listed = response.headers.get("X-Chunks");
      body = new Uint8Array(mode === "blob" ? (await ask({ blob: await response.blob() })).body
        : await response.arrayBuffer());
    }
    if (count === 1) return [body];
    let at = 0;
    return listed.split(",").map((size) => {
      at += Number(size);
      return body.subarray(at - Number(size), at);
    });
  };
  const fetched = [];
  const t0 = performance.now();
  let asked = 0;
  const running = Array.from({ length: lanes }, async () => {
    while (asked < part.chunks) {
      const index = asked;
      const count = Math.min(batch, part.chunks - index);
      asked += count;
      const chunks = await get(index, count);
      chunks.forEach((data, offset) => {
        if (index + offset < 16) fetched[index + offset] = data;
      });
    }
  });
  await Promise.all(running);
  if (reader) reader.terminate();
  window.__benchRead.fetched = fetched;
  return (performance.now() - t0) / 1000;
}
"""

# The checks alone in the player's Workers (media/open-workers.js), over chunks already fetched
# (copies of the first 16, a GET's worth at a time, `lanes` at once, as the player asks).
CHECKS_IN_WORKERS = """
async ({ batch, lanes }) => {
  const p = await import("/static/js/crypto/protocol.js");
  const { ChunkOpeners } = await import("/static/js/media/open-workers.js");
  const { message, keys, released, fetched, part } = window.__benchRead;
  const [key] = p.openContentGrant(keys.secretKey, p.b64decode(released.sender_public_key),
    released.object_id, released.version, p.b64decode(released.grant));
  const { chunks, size, hashes } = message.manifest.parts[1];
  const openers = new ChunkOpeners(p);
  for (let wait = 0; openers.ready.length < openers.workers.length && wait < 200; wait += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const run = Math.min(batch, fetched.length);
  const body = (from) => {
    const pieces = fetched.slice(from, from + run);
    const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
    let at = 0;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return { body: new Blob([out]), sizes: pieces.map((piece) => piece.length) };
  };
  let asked = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (asked < part.chunks) {
      const from = asked % (fetched.length - (fetched.length % run));
      asked += run;
      await openers.open({ key, objectId: released.object_id, version: released.version,
        part: 1, entry: { chunks, size, hashes }, from, ...body(from) });
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  // Closed after the CPU is read: an ended thread's CPU leaves /proc/<pid>/task.
  window.__benchOpeners = { openers, key };
  return { seconds, workers: openers.workers.length };
}
"""

CHECKS_ALONE = """
async () => {
  const p = await import("/static/js/crypto/protocol.js");
  const { message, keys, released, fetched, part } = window.__benchRead;
  const manifest = message.manifest;
  const grant = p.openContentGrant(keys.secretKey, p.b64decode(released.sender_public_key),
    released.object_id, released.version, p.b64decode(released.grant));
  const t0 = performance.now();
  for (let index = 0; index < part.chunks; index += 1) {
    const at = index % fetched.length;
    p.openChunk(grant[0], released.object_id, released.version, manifest, 1, at, fetched[at]);
  }
  const seconds = (performance.now() - t0) / 1000;
  message.close();
  window.__benchRead = null;
  return seconds;
}
"""


def chunks_fetched(requests: list[str], part: int = 1) -> int:
    pattern = re.compile(rf"/api/content/[0-9a-f-]{{36}}/\d+/{part}/\d+(?:\?count=(\d+))?$")
    found = (pattern.search(url) for url in requests)
    return sum(int(match.group(1) or 1) for match in found if match)


@dataclass(frozen=True)
class Reading:
    """How the player's reading is measured: chunks asked for ahead and chunks to a GET (None:
    open.js READ_AHEAD and FETCH_BATCH)."""

    ahead: int | None
    batch: int | None


def run(megabytes: int, reading: Reading) -> None:
    size = megabytes * 1000 * 1000
    with tempfile.TemporaryDirectory(prefix="bench-playback-") as temp:
        data_dir = Path(temp) / "data"
        database_url = f"sqlite:///{data_dir / 'portal.sqlite3'}"
        limits = {
            "PORTAL_MAX_MESSAGE_BYTES": str(size + 64 * MIB),
            "PORTAL_CASE_QUOTA_BYTES": str(2 * size + 64 * MIB),
            "PORTAL_STORAGE_CAP_BYTES": str(2 * size + 64 * MIB),
        }
        server = start_live_server(
            data_dir=data_dir, database_url=database_url, env_overrides=limits, label="bench"
        )
        engine = make_engine(database_url)
        try:
            settings = Settings.from_env(
                {k: v for k, v in server.env.items() if k.startswith("PORTAL_")}
            )
            with (
                httpx.Client(base_url=server.base_url, timeout=600) as client,
                sync_playwright() as playwright,
            ):
                world = CaseWorld.build(Portal(client, settings, engine))
                world.consent(world.responsible, ["letter", "video"])
                world.consent(world.harmed, ["letter", "video"])
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[
                        "--no-sandbox",
                        "--disable-background-networking",
                        "--use-fake-ui-for-media-stream",
                        "--use-fake-device-for-media-stream",
                        "--autoplay-policy=no-user-gesture-required",
                    ],
                )
                page = browser.new_page()
                page.goto(server.url("/sign-in"))
                recording = record_webm(page, seconds=4, video=True, bits_per_second=8_000_000)
                page.close()
                video, length_ms = looped_webm(recording, size)
                print(
                    f"video: {len(video) / 1e6:.0f} MB of WebM (VP8 and Opus), "
                    f"{length_ms / 1000:.0f} s: a {len(recording) / 1e6:.1f} MB recording "
                    "of this Chromium, looped"
                )
                started = time.perf_counter()
                message_id = world.write_media_message(
                    world.responsible,
                    "Please watch the recording.",
                    [protocol.Part(kind="recording", mime=VIDEO_MIME, name="", data=video)],
                    length={"seconds": length_ms // 1000},
                )
                del video
                approved = world.approve(message_id)
                assert approved.status_code == 200, approved.text
                print(f"sealed, uploaded and approved in {time.perf_counter() - started:.0f} s")
                measure(browser, server, world, message_id, reading)
                browser.close()
        finally:
            engine.dispose()
            server.stop()


def measure(
    browser: Browser, server: LiveServer, world: CaseWorld, message_id: str, reading: Reading
) -> None:
    base_url = server.base_url
    # bypass_csp: the page's CSP (connect-src 'self') would refuse the bare endpoint's origin;
    # the portal's own requests are the same either way.
    context = browser.new_context(bypass_csp=True)
    context.add_init_script(WATCH)
    page: Page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    harmed = world.harmed
    home = participant_signs_in(page, base_url, harmed.name, harmed.password)
    home.sees_choices_for_waiting_item()
    page.get_by_role("checkbox", name="Let the writer know I have opened it").set_checked(False)
    requests.clear()
    page.get_by_role("button", name="Open it now").click()
    page.wait_for_function("() => window.__bench.frame !== null", timeout=60_000)
    with contextlib.suppress(PlaywrightError):  # printed as "not seen"
        page.wait_for_function("() => window.__bench.loadeddata !== null", timeout=5_000)
    marks = page.evaluate("() => window.__bench")
    fetched = chunks_fetched(requests)
    expect(page.locator("video")).to_be_visible()
    frame_s = (marks["frame"] - marks["click"]) / 1000
    loaded_s = (marks["loadeddata"] - marks["click"]) / 1000 if marks["loadeddata"] else None
    released = world.harmed.post_json(f"/api/inbox/{message_id}/open", {"author_may_see": False})
    assert released.status_code == 200, released.text
    sealed = released.json()
    result = page.evaluate(
        MEASURE_DECRYPT, {"released": sealed, "ahead": reading.ahead, "batch": reading.batch}
    )
    batch, ahead = result["batch"], result["ahead"]
    split = browser_split_cpu_seconds()
    result["bare"] = page.evaluate(BARE_AEAD)
    bare_cpu = browser_split_cpu_seconds()["page"] - split["page"]
    # The player's reading, with the CPU it takes: the server's, and the browser's split into
    # the page's thread, the Workers and the rest (network service, browser process).
    server_cpu, split = cpu_seconds(server.process.pid), browser_split_cpu_seconds()
    reads = page.evaluate(PLAYER_READS, {"ahead": ahead, "batch": batch})
    player_cpu = {
        "server": cpu_seconds(server.process.pid) - server_cpu,
        **{k: v - split[k] for k, v in browser_split_cpu_seconds().items()},
    }
    result["bytes"], result["ours"] = reads["bytes"], reads["seconds"]
    part_dir = next(server.data_dir.glob(f"**/{sealed['object_id']}/v{sealed['version']}/p1"))
    bare, bare_url = start_bare(part_dir, origin=base_url)
    own = f"/api/content/{sealed['object_id']}/{sealed['version']}/1/"
    # (name, server process, address, chunks to a GET, GETs at once): one chunk to a GET four
    # at once (the reading before batches), then as the player reads now.
    runs = [
        ("portal GETs, 1 chunk each", server.process.pid, own, 1, 4),
        ("bare GETs, 1 chunk each", bare.pid, bare_url, 1, 4),
        (
            f"portal GETs, {batch} chunks each",
            server.process.pid,
            own,
            batch,
            max(1, ahead // batch),
        ),
        (f"bare GETs, {batch} chunks each", bare.pid, bare_url, batch, max(1, ahead // batch)),
        (
            f"portal GETs, {batch} each, as Blobs",
            server.process.pid,
            own,
            batch,
            max(1, ahead // batch),
        ),
        (
            f"portal GETs, {batch} each, in a Worker",
            server.process.pid,
            own,
            batch,
            max(1, ahead // batch),
        ),
    ]
    # name, seconds, server / browser CPU, the browser's page's thread CPU
    gets: list[tuple[str, float, float, float, float]] = []
    try:
        for name, pid, base, count, lanes in runs:
            server_cpu, browser_cpu = cpu_seconds(pid), browser_cpu_seconds()
            page_cpu = browser_split_cpu_seconds()["page"]
            credentials = "same-origin" if base == own else "omit"
            mode = (
                "blob"
                if name.endswith("as Blobs")
                else "worker"
                if name.endswith("in a Worker")
                else "arrayBuffer"
            )
            seconds = page.evaluate(
                GETS_ALONE,
                {
                    "base": base,
                    "credentials": credentials,
                    "batch": count,
                    "lanes": lanes,
                    "mode": mode,
                },
            )
            gets.append(
                (
                    name,
                    seconds,
                    cpu_seconds(pid) - server_cpu,
                    browser_cpu_seconds() - browser_cpu,
                    browser_split_cpu_seconds()["page"] - page_cpu,
                )
            )
    finally:
        bare.terminate()
        bare.wait(10)
    split = browser_split_cpu_seconds()
    in_workers = page.evaluate(CHECKS_IN_WORKERS, {"batch": batch, "lanes": max(1, ahead // batch)})
    workers_cpu = {k: v - split[k] for k, v in browser_split_cpu_seconds().items()}
    page.evaluate(
        "() => { const { openers, key } = window.__benchOpeners; openers.close(); key.fill(0); }"
    )
    browser_cpu = browser_cpu_seconds()
    result["checksOnly"] = page.evaluate(CHECKS_ALONE)
    browser_checks = browser_cpu_seconds() - browser_cpu
    context.close()

    mb = result["bytes"] / 1e6
    bare_rate = mb / result["bare"]
    ours = mb / result["ours"]
    per_chunk = 1000 / result["chunks"]
    print(
        f"first frame after 'Open it now': {frame_s:.2f} s (target <= 1.5 s); 'loadeddata' "
        + (f"{loaded_s:.2f} s" if loaded_s is not None else "not seen")
        + f"; {fetched} of {result['chunks']} chunks fetched by then"
    )
    print(
        f"bare libsodium.js AEAD decrypt:      {bare_rate:8.1f} MB/s ({result['bare']:.2f} s)  "
        f"CPU per chunk: page's thread {bare_cpu * per_chunk:.1f} ms"
    )
    print(
        f"fetch, check and decrypt (player):   {ours:8.1f} MB/s ({result['ours']:.2f} s)"
        f"  ratio {ours / bare_rate:.2f} (target >= 0.5); {batch} chunks to a GET, "
        f"{ahead} asked for ahead"
    )
    print(
        f"  CPU per chunk: server {player_cpu['server'] * per_chunk:.1f} ms; browser: page's "
        f"thread {player_cpu['page'] * per_chunk:.1f} ms, Workers "
        f"{player_cpu['workers'] * per_chunk:.1f} ms, the rest (network service, browser "
        f"process) {player_cpu['rest'] * per_chunk:.1f} ms"
    )
    # Load-robust: the CPU the player's reading needs against the bare AEAD's. Two cores give
    # at most twice the bare AEAD's CPU in the bare AEAD's time, so this bounds the ratio.
    needed = sum(player_cpu.values())
    print(
        f"  CPU of the player's reading / bare AEAD's: {needed / bare_cpu:.1f}; on two cores "
        f"the ratio cannot pass {2 * bare_cpu / needed:.2f} (server and browser included), "
        f"{2 * bare_cpu / (needed - player_cpu['server']):.2f} with a server costing nothing"
    )
    print("where the time goes (CPU per chunk: the serving process / every Chromium process):")
    for name, seconds, server_cpu, browser_cpu, page_cpu in gets:
        rate = mb / seconds
        print(
            f"  {name + ':':<34}{rate:8.1f} MB/s ({seconds:.2f} s)  ratio {rate / bare_rate:.2f}"
            f"  CPU per chunk: server {server_cpu * per_chunk:.1f} ms, "
            f"browser {browser_cpu * per_chunk:.1f} ms (page's thread "
            f"{page_cpu * per_chunk:.1f} ms)"
        )
    rate = mb / result["checksOnly"]
    print(
        f"  {'checks alone (hash and decrypt):':<34}{rate:8.1f} MB/s "
        f"({result['checksOnly']:.2f} s)  ratio {rate / bare_rate:.2f}  CPU per chunk: browser "
        f"{browser_checks * per_chunk:.1f} ms"
    )
    rate = mb / in_workers["seconds"]
    print(
        f"  {'checks alone, ' + str(in_workers['workers']) + ' Workers:':<34}{rate:8.1f} MB/s "
        f"({in_workers['seconds']:.2f} s)  ratio {rate / bare_rate:.2f}  CPU per chunk: page's "
        f"thread {workers_cpu['page'] * per_chunk:.1f} ms, Workers "
        f"{workers_cpu['workers'] * per_chunk:.1f} ms"
    )
    seconds = {name: taken for name, taken, *_cpu in gets}
    names = [name for name, *_rest in runs]
    print(
        f"  portal GETs / bare GETs: {seconds[names[1]] / seconds[names[0]]:.2f} one chunk each, "
        f"{seconds[names[3]] / seconds[names[2]]:.2f} {batch} chunks each"
    )


def start_bare(folder: Path, origin: str) -> tuple[subprocess.Popen[bytes], str]:
    """bench/bare_chunks.py over the part's chunk files, served as ``portal serve`` serves
    (uvicorn, one process), readable by pages of ``origin``."""
    env = {"BARE_CHUNKS_DIR": str(folder), "BARE_CHUNKS_ORIGIN": origin}
    try:
        process, port = start_bare_app("bench.bare_chunks:app", env)
    except LiveServerError:
        sys.exit("the bare chunk endpoint did not start")
    return process, f"http://127.0.0.1:{port}/bare/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument(
        "--ahead",
        type=int,
        default=None,
        help="chunks asked for ahead (default: open.js READ_AHEAD)",
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="chunks to a GET (default: open.js FETCH_BATCH)"
    )
    args = parser.parse_args()
    run(args.megabytes, Reading(args.ahead, args.batch))


if __name__ == "__main__":
    main()
