"""Encrypt-and-upload throughput of the browser uploader against bare libsodium.js AEAD.

Starts ``portal serve --demo`` on a free port with a temporary data folder, signs the demo
person responsible in with headless Chromium, opens the composer, and in that same page:

1. baseline: crypto_aead_xchacha20poly1305_ietf_encrypt over the 1 MiB pieces of a generated
   200 MB file (already in memory: the pure cipher rate of this browser);
2. ours: the same file sealed and uploaded through static/js/media (MediaMessage.send: Blob
   slices, PartSealer, chunk hashes, Uploader with its PUTs in flight, the manifest), against
   the live server, which streams every chunk to its blob store. The upload is then cancelled
   (DELETE), so nothing is kept.

Prints both rates and their ratio (target: at least 0.5). Not a test; never fails the build.

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

MEASURE = """
async ({ megabytes }) => {
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

  // 1. Bare AEAD over the same 1 MiB pieces.
  const key = sodium.randombytes_buf(32);
  const ad = new Uint8Array(64);
  let t0 = performance.now();
  for (const piece of pieces) {
    const nonce = sodium.randombytes_buf(24);
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(piece, ad, null, nonce, key);
  }
  const bare = (performance.now() - t0) / 1000;
  pieces.length = 0;

  // 1b. The client side alone: Blob slices through PartSealer (AEAD + chunk hash), no network.
  const { PartSealer } = await import("/static/js/media/seal.js");
  const sealer = new PartSealer(p, { key, objectId: "00000000-0000-4000-8000-000000000000",
    version: 1, part: 1, kind: "attachment", mime: "video/mp4", name: "x", knownSize: blob.size });
  t0 = performance.now();
  for (let at = 0; at < blob.size; at += CHUNK) {
    sealer.push(new Uint8Array(await blob.slice(at, at + CHUNK).arrayBuffer()));
  }
  sealer.finish();
  const sealOnly = (performance.now() - t0) / 1000;

  // 2. Through the uploader, as the composer sends a chosen file.
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
  return { size, bare, sealOnly, ours, stored: fields.letter.stored_chunks.length, last };
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
        page = browser.new_page()
        page.goto(base + "/sign-in")
        page.get_by_label("Sign-in name").fill("demo responsible")
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name=re.compile(r"^Sign in")).click()
        page.wait_for_url(re.compile(r"/home"))
        page.goto(base + "/letters/new")
        expect(page.locator("#composer-status")).to_have_text("", timeout=30000)
        result = page.evaluate(MEASURE, {"megabytes": megabytes})
        browser.close()
    mb = result["size"] / 1e6
    bare = mb / result["bare"]
    ours = mb / result["ours"]
    print(f"file: {mb:.0f} MB in {result['stored']} chunks")
    print(f"bare libsodium.js AEAD:   {bare:8.1f} MB/s ({result['bare']:.2f} s)")
    seal_only = mb / result["sealOnly"]
    print(
        f"seal only (PartSealer):   {seal_only:8.1f} MB/s ({result['sealOnly']:.2f} s)"
        f"  ratio {seal_only / bare:.2f}"
    )
    print(f"encrypt and upload:       {ours:8.1f} MB/s ({result['ours']:.2f} s)")
    print(f"ratio: {ours / bare:.2f}")


if __name__ == "__main__":
    main()
