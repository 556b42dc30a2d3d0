"""Encrypt-and-upload throughput of the browser uploader against bare libsodium.js AEAD.

Starts ``portal serve --demo`` on a free port with a temporary data folder, signs the demo
person responsible in with headless Chromium, opens the composer, and in that same page:

1. baseline: crypto_aead_xchacha20poly1305_ietf_encrypt over the 1 MiB pieces of a generated
   200 MB file (already in memory: the pure cipher rate of this browser);
   For reference, the same inside one Worker and inside two side by side;
2. sealing alone, the composer's way without the network (media/seal-workers.js: 8 MiB Blob
   slices sealed in Workers, chunk hashes, buffers transferred back); for reference, sealing on
   the page's thread as the composer did before (PartSealer over 1 MiB slices);
3. ours: the same file sealed and uploaded through static/js/media (MediaMessage.send: sealing
   in Workers, Uploader with its PUTs in flight, the manifest), against the live server, which
   streams every chunk to its blob store. The upload is then cancelled (DELETE), so nothing is
   kept.

Prints each rate and its ratio to the bare AEAD on the page's thread (targets: sealing alone at
least 0.8, encrypt and upload at least 0.5). Not a test; never fails the build.

    .venv/bin/python bench/browser_upload.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from tests.support.cpu import browser_cpu_seconds, cpu_seconds
from tests.support.live_server import LiveServerError, start_bare_app

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"

# Served by the bench itself (page.route) at a same-origin address, so the page's CSP
# (worker-src 'self') lets it start: bare AEAD inside a Worker, for reference. Not in static/.
AEAD_WORKER_PATH = "/static/js/bench-aead-worker.js"
AEAD_WORKER = """
import sodium from "/static/vendor/libsodium-wrappers.mjs";
self.addEventListener("message", async ({ data: { bytes } }) => {
  await sodium.ready;
  const CHUNK = 1024 * 1024;
  const piece = sodium.randombytes_buf(CHUNK);
  const key = sodium.randombytes_buf(32);
  const ad = new Uint8Array(64);
  // Wall-clock times, so that two Workers' runs can be put on one line.
  const start = performance.timeOrigin + performance.now();
  for (let at = 0; at < bytes; at += CHUNK) {
    const nonce = sodium.randombytes_buf(24);
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      at + CHUNK <= bytes ? piece : piece.subarray(0, bytes - at), ad, null, nonce, key);
  }
  self.postMessage({ start, end: performance.timeOrigin + performance.now() });
});
"""

MEASURE_SEALING = """
async ({ megabytes, workerPath }) => {
  const CHUNK = 1024 * 1024;
  const size = megabytes * 1000 * 1000;
  const p = await import("/static/js/crypto/protocol.js");
  await p.ready();
  const sodium = (await import("/static/vendor/libsodium-wrappers.mjs")).default;
  await sodium.ready;
  // A generated file: random-looking bytes, made once, kept as a Blob (as a chosen file is).
  const pieces = [];
  const seed = sodium.randombytes_buf(CHUNK);
  for (let at = 0; at < size; at += CHUNK) {
    const piece = seed.slice(0, Math.min(CHUNK, size - at));
    piece[0] = at & 255;
    pieces.push(piece);
  }
  const blob = new Blob(pieces, { type: "video/mp4" });
  const objectId = "00000000-0000-4000-8000-000000000000";

  // 1. Bare AEAD over the same 1 MiB pieces, on the page's thread.
  const key = sodium.randombytes_buf(32);
  const ad = new Uint8Array(64);
  let t0 = performance.now();
  for (const piece of pieces) {
    const nonce = sodium.randombytes_buf(24);
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(piece, ad, null, nonce, key);
  }
  const bare = (performance.now() - t0) / 1000;
  pieces.length = 0;

  // 1b. For reference: bare AEAD inside one Worker, and inside two side by side (half each),
  // from the first byte encrypted to the last (the Workers' start-up not counted).
  const inWorkers = async (count) => {
    const workers = Array.from({ length: count }, () =>
      new Worker(workerPath, { type: "module" }));
    const replies = await Promise.all(workers.map((worker, i) => new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = reject;
      const share = Math.floor(size / count / CHUNK) * CHUNK;
      worker.postMessage({ bytes: i === count - 1 ? size - share * (count - 1) : share });
    })));
    workers.forEach((worker) => worker.terminate());
    const start = Math.min(...replies.map((r) => r.start));
    return (Math.max(...replies.map((r) => r.end)) - start) / 1000;
  };
  const bareWorker = await inWorkers(1);
  const bareTwoWorkers = await inWorkers(2);

  // 2. Sealing alone, the composer's way (media/seal-workers.js: 8 MiB Blob slices sealed in
  // Workers with protocol.encryptChunk and chunkHash, buffers transferred back), no network.
  const { SealWorkers, sealFileChunks } = await import("/static/js/media/seal-workers.js");
  // The Workers are started (and load the cipher) before the clock starts, as the composer
  // starts them while it declares the upload.
  const workers = new SealWorkers();
  await workers.warm();
  const workerCount = workers.count;
  let sealedBytes = 0;
  t0 = performance.now();
  for await (const chunk of sealFileChunks(workers, { key, objectId, version: 1, part: 1,
    file: blob, size: blob.size })) {
    sealedBytes += chunk.size;
  }
  const sealOnly = (performance.now() - t0) / 1000;
  workers.close();

  // 2b. For reference: sealing on the page's thread (PartSealer over 1 MiB Blob slices), as
  // the composer did before the Workers.
  const { PartSealer } = await import("/static/js/media/seal.js");
  const sealer = new PartSealer(p, { key, objectId, version: 1, part: 1, kind: "attachment",
    mime: "video/mp4", name: "x", knownSize: blob.size });
  t0 = performance.now();
  for (let at = 0; at < blob.size; at += CHUNK) {
    sealer.push(new Uint8Array(await blob.slice(at, at + CHUNK).arrayBuffer()));
  }
  sealer.finish();
  const sealOnPage = (performance.now() - t0) / 1000;

  // Kept for the next steps (bench/browser_upload.py runs them after removing its route).
  window.__benchFile = blob;
  return { size, bare, bareWorker, bareTwoWorkers, sealOnly, sealOnPage, workerCount,
    sealedBytes };
}
"""

# 3. Through the uploader, as the composer sends a chosen file.
MEASURE_UPLOAD = """
async () => {
  const p = await import("/static/js/crypto/protocol.js");
  await p.ready();
  const blob = window.__benchFile;
  const { loadSecretKey } = await import("/static/js/client/session.js");
  const { loadCaseContext } = await import("/static/js/client/participant-case.js");
  const { postJSON } = await import("/static/js/lib/http.js");
  const { MediaMessage } = await import("/static/js/media/message.js");
  const keys = await loadSecretKey();
  const context = await loadCaseContext(p, keys);
  const message = new MediaMessage(p, keys, {
    caseId: context.me.case_id,
    newIdentity: async () => ({
      objectId: (await postJSON("/api/letters/objects", {})).object_id, version: 1 }),
  });
  await message.ensureIdentity();
  const file = { kind: "attachment", mime: "video/mp4", name: "bench.mp4", size: blob.size,
    lastModified: 0, durationMs: null, file: blob };
  let firstSent = null;
  const t0 = performance.now();
  const fields = await message.send({ text: "", files: [file], casePk: context.casePublicKey,
    onProgress: (progress) => {
      if (firstSent === null && progress.sentBytes > 0) firstSent = performance.now() - t0;
    },
    onWaiting: () => {} });
  const ours = (performance.now() - t0) / 1000;
  await message.cancel();
  return { ours, firstSent: firstSent / 1000, stored: fields.letter.stored_chunks.length };
}
"""

# 4. Where the time goes: the same file sealed first (Workers, kept in memory), then uploaded
# alone, without sealing meanwhile: (a) through the portal's Uploader; (b) with bare fetch to
# a minimal endpoint (bench/bare_ingest.py browser_app: streams to files, fsync, no session,
# database or hashing), in the same requests (BATCH_CHUNKS chunks a PUT with their X-Chunks
# header, Blob bodies), CONCURRENCY at once.
SEAL_FOR_REFERENCE = """
async () => {
  const p = await import("/static/js/crypto/protocol.js");
  await p.ready();
  const blob = window.__benchFile;
  const { postJSON } = await import("/static/js/lib/http.js");
  const { SealWorkers, sealFileChunks } = await import("/static/js/media/seal-workers.js");
  const workers = new SealWorkers();
  await workers.warm();
  const { object_id: objectId } = await postJSON("/api/letters/objects", {});
  const sealed = [];
  for await (const chunk of sealFileChunks(workers, { key: p.randomBytes(32), objectId,
    version: 1, part: 1, file: blob, size: blob.size })) {
    sealed.push(chunk);
  }
  workers.close();
  window.__benchSealed = { objectId, sealed };
}
"""

UPLOAD_ALONE = """
async () => {
  const { Uploader } = await import("/static/js/media/upload.js");
  const { objectId, sealed } = window.__benchSealed;
  const uploader = new Uploader({ objectId, version: 1 });
  await uploader.start(sealed.reduce((sum, chunk) => sum + chunk.size, 0));
  const chunks = sealed.map((chunk) => ({ ...chunk })); // the Uploader lets sent bytes go
  const t0 = performance.now();
  await uploader.send(chunks);
  const seconds = (performance.now() - t0) / 1000;
  await uploader.cancel();
  return seconds;
}
"""

BARE_UPLOAD = """
async (bareUrl) => {
  const { BATCH_CHUNKS, CONCURRENCY, hashText } = await import("/static/js/media/upload.js");
  const { sealed } = window.__benchSealed;
  const batches = [];
  for (let at = 0; at < sealed.length; at += BATCH_CHUNKS) {
    batches.push(sealed.slice(at, at + BATCH_CHUNKS));
  }
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next];
      next += 1;
      const response = await fetch(bareUrl, {
        method: "PUT",
        cache: "no-store",
        headers: {
          "Content-Type": "application/octet-stream",
          "X-Chunks": batch.map((chunk) => `${chunk.size}:${hashText(chunk.hash)}`).join(","),
        },
        body: new Blob(batch.map((chunk) => chunk.data)),
      });
      if (!response.ok) throw new Error(`the bare endpoint answered ${response.status}`);
      await response.json();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - t0) / 1000;
  window.__benchSealed = null;
  return { seconds, batch: BATCH_CHUNKS, concurrency: CONCURRENCY };
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as data_dir:
        env = {
            **os.environ,
            "PORTAL_DATA_DIR": data_dir,
            "PORTAL_DATABASE_URL": f"sqlite:///{data_dir}/portal.sqlite3",
        }
        env.pop("PORTAL_ENV", None)
        out_path = Path(data_dir) / "serve.out"
        portal = REPO / ".venv" / "bin" / "portal"
        with out_path.open("wb") as out:
            server = subprocess.Popen(
                [str(portal), "serve", "--demo", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )
        bare = None
        try:
            password = wait_for_password(out_path, server)
            base = f"http://127.0.0.1:{port}"
            bare, bare_url = start_bare(Path(data_dir) / "bare", origin=base)
            run(Servers(base, server.pid, bare_url, bare.pid), password, args.megabytes)
        finally:
            for process in (server, bare):
                if process is None:
                    continue
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


class Servers(NamedTuple):
    base: str
    pid: int
    bare_url: str
    bare_pid: int


def start_bare(folder: Path, origin: str) -> tuple[subprocess.Popen[bytes], str]:
    """bench/bare_ingest.py browser_app, served as ``portal serve`` serves (uvicorn, one
    process, uvloop and httptools), accepting PUTs from pages of ``origin``."""
    folder.mkdir()
    env = {"BARE_INGEST_DIR": str(folder), "BARE_INGEST_ORIGIN": origin}
    try:
        process, port = start_bare_app(
            "bench.bare_ingest:browser_app", env, folder.parent / "bare.out"
        )
    except LiveServerError:
        sys.exit("the bare endpoint did not start")
    return process, f"http://127.0.0.1:{port}/bare"


def wait_for_password(out_path: Path, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    pattern = re.compile(r"demo responsible\s+password: (\S+)")
    while time.monotonic() < deadline:
        text = out_path.read_text(errors="replace") if out_path.exists() else ""
        found = pattern.search(text)
        if found and "running at" in text:
            return found.group(1)
        if server.poll() is not None:
            sys.exit(f"portal serve stopped:\n{text}")
        time.sleep(0.2)
    sys.exit("portal serve did not start in time")


def run(servers: Servers, password: str, megabytes: int) -> None:
    base = servers.base
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        # The page's CSP (connect-src 'self') would refuse the bare endpoint's origin; the
        # portal's own requests are the same either way.
        context = browser.new_context(bypass_csp=True)
        context.route(
            "**" + AEAD_WORKER_PATH,
            lambda route: route.fulfill(body=AEAD_WORKER, content_type="text/javascript"),
        )
        page = context.new_page()
        page.goto(base + "/sign-in")
        page.get_by_label("Sign-in name").fill("demo responsible")
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name=re.compile(r"^Sign in")).click()
        page.wait_for_url(re.compile(r"/home"))
        page.goto(base + "/letters/new")
        expect(page.locator("#composer-status")).to_have_text("", timeout=30000)
        result = page.evaluate(
            MEASURE_SEALING, {"megabytes": megabytes, "workerPath": AEAD_WORKER_PATH}
        )
        # While any route is set, Playwright intercepts every request of the context, request
        # bodies included: that alone made encrypt-and-upload about 4 times slower (measured).
        # The Worker script is loaded by now.
        context.unroute("**" + AEAD_WORKER_PATH)
        cpu, browser_cpu = cpu_seconds(servers.pid), browser_cpu_seconds()
        result.update(page.evaluate(MEASURE_UPLOAD))
        cpu_ours = cpu_seconds(servers.pid) - cpu
        browser_ours = browser_cpu_seconds() - browser_cpu
        browser_cpu = browser_cpu_seconds()
        page.evaluate(SEAL_FOR_REFERENCE)
        browser_seal = browser_cpu_seconds() - browser_cpu
        cpu, browser_cpu = cpu_seconds(servers.pid), browser_cpu_seconds()
        result["uploadAlone"] = page.evaluate(UPLOAD_ALONE)
        cpu_alone = cpu_seconds(servers.pid) - cpu
        browser_alone = browser_cpu_seconds() - browser_cpu
        cpu, browser_cpu = cpu_seconds(servers.bare_pid), browser_cpu_seconds()
        result.update(page.evaluate(BARE_UPLOAD, servers.bare_url))
        cpu_bare = cpu_seconds(servers.bare_pid) - cpu
        browser_bare = browser_cpu_seconds() - browser_cpu
        browser.close()
    mb = result["size"] / 1e6
    bare = mb / result["bare"]

    def line(name: str, seconds: float, ratio: bool = True) -> None:
        rate = mb / seconds
        tail = f"  ratio {rate / bare:.2f}" if ratio else ""
        print(f"{name:<48}{rate:8.1f} MB/s ({seconds:.2f} s){tail}")

    print(f"file: {mb:.0f} MB in {result['stored']} chunks")
    line("bare libsodium.js AEAD (page's thread)", result["bare"], ratio=False)
    line("  for reference: bare AEAD in 1 Worker", result["bareWorker"])
    line("  for reference: bare AEAD in 2 Workers", result["bareTwoWorkers"])
    line(f"seal only ({result['workerCount']} Worker(s), target >= 0.8)", result["sealOnly"])
    line("  for reference: seal on the page's thread", result["sealOnPage"])
    line("encrypt and upload (target >= 0.5)", result["ours"])
    print(f"  first bytes held by the server after {result['firstSent']:.2f} s")
    shape = f"{result['batch']} chunks a PUT, {result['concurrency']} at once"
    line(f"  upload alone, sealed already ({shape})", result["uploadAlone"])
    line("  bare fetch upload, the same PUTs", result["seconds"])
    print(
        f"  encrypt and upload / bare fetch upload: {result['seconds'] / result['ours']:.2f}; "
        f"upload alone / bare fetch upload: {result['seconds'] / result['uploadAlone']:.2f}"
    )
    gb = result["size"] / 1e9
    print(
        f"  server CPU per GB: encrypt and upload {cpu_ours / gb:.1f} s, upload alone "
        f"{cpu_alone / gb:.1f} s, bare endpoint {cpu_bare / gb:.1f} s"
    )
    print(
        f"  browser CPU per GB: encrypt and upload {browser_ours / gb:.1f} s (sealing alone "
        f"{browser_seal / gb:.1f} s), upload alone {browser_alone / gb:.1f} s, bare fetch "
        f"upload {browser_bare / gb:.1f} s"
    )


if __name__ == "__main__":
    main()
