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

from playwright.sync_api import expect, sync_playwright

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

MEASURE = """
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

  // 3. Through the uploader, as the composer sends a chosen file.
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
  let last = null;
  t0 = performance.now();
  const fields = await message.send({ text: "", files: [file], casePk: context.casePublicKey,
    onProgress: (progress) => { last = progress; }, onWaiting: () => {} });
  const ours = (performance.now() - t0) / 1000;
  await message.cancel();
  return { size, bare, bareWorker, bareTwoWorkers, sealOnly, sealOnPage, workerCount,
    sealedBytes, ours, stored: fields.letter.stored_chunks.length, last };
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
        try:
            password = wait_for_password(out_path, server)
            run(f"http://127.0.0.1:{port}", password, args.megabytes)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


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


def run(base: str, password: str, megabytes: int) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        context = browser.new_context()
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
        result = page.evaluate(MEASURE, {"megabytes": megabytes, "workerPath": AEAD_WORKER_PATH})
        browser.close()
    mb = result["size"] / 1e6
    bare = mb / result["bare"]

    def line(name: str, seconds: float, ratio: bool = True) -> None:
        rate = mb / seconds
        tail = f"  ratio {rate / bare:.2f}" if ratio else ""
        print(f"{name:<44}{rate:8.1f} MB/s ({seconds:.2f} s){tail}")

    print(f"file: {mb:.0f} MB in {result['stored']} chunks")
    line("bare libsodium.js AEAD (page's thread)", result["bare"], ratio=False)
    line("  for reference: bare AEAD in 1 Worker", result["bareWorker"])
    line("  for reference: bare AEAD in 2 Workers", result["bareTwoWorkers"])
    line(f"seal only ({result['workerCount']} Worker(s), target >= 0.8)", result["sealOnly"])
    line("  for reference: seal on the page's thread", result["sealOnPage"])
    line("encrypt and upload (target >= 0.5)", result["ours"])


if __name__ == "__main__":
    main()
