"""Real media for tests, made without tools the machine may not have.

PNG pages are written here with zlib (a scanned letter's pages); WebM recordings are made by the
test's own Chromium with MediaRecorder from the fake camera and microphone
(``--use-fake-device-for-media-stream``), so they are exactly what a browser records and plays.
"""

from __future__ import annotations

import base64
import struct
import zlib

from playwright.sync_api import Page


def png(width: int, height: int, seed: int) -> bytes:
    """An RGB PNG with a pattern that depends on ``seed`` (so two pages differ)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(((x * 7 + seed * 31) % 256, (y * 5 + seed * 17) % 256, (x ^ y) % 256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b"")
    )


def record_webm(page: Page, *, seconds: float, video: bool, bits_per_second: int) -> bytes:
    """What this Chromium records, as WebM bytes: the fake microphone, and for video a canvas of
    moving noise (the fake camera's picture compresses to almost nothing, and the tests about
    resuming need a recording several chunks long).

    ``page`` must be on a page of the portal (a secure context, localhost).
    """
    encoded: str = page.evaluate(
        """async ([seconds, video, bits]) => {
          const microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
          const tracks = [...microphone.getAudioTracks()];
          let timer = null;
          if (video) {
            const canvas = document.createElement("canvas");
            canvas.width = 640;
            canvas.height = 360;
            const context = canvas.getContext("2d");
            const frame = context.createImageData(canvas.width, canvas.height);
            let seed = 12345;
            const draw = () => {
              for (let i = 0; i < frame.data.length; i += 4) {
                seed = (seed * 1103515245 + 12345) >>> 0;
                frame.data[i] = seed >>> 24;
                frame.data[i + 1] = (seed >>> 16) & 255;
                frame.data[i + 2] = (seed >>> 8) & 255;
                frame.data[i + 3] = 255;
              }
              context.putImageData(frame, 0, 0);
            };
            draw();
            timer = setInterval(draw, 40);
            tracks.push(...canvas.captureStream(25).getVideoTracks());
          }
          const stream = new MediaStream(tracks);
          const type = video ? "video/webm;codecs=vp8,opus" : "audio/webm;codecs=opus";
          const recorder = new MediaRecorder(stream, {
            mimeType: type,
            videoBitsPerSecond: bits,
            audioBitsPerSecond: 128000,
          });
          const pieces = [];
          recorder.ondataavailable = (event) => pieces.push(event.data);
          const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
          recorder.start(250);
          await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
          recorder.stop();
          await stopped;
          if (timer) clearInterval(timer);
          for (const track of stream.getTracks()) track.stop();
          const bytes = new Uint8Array(await new Blob(pieces).arrayBuffer());
          let binary = "";
          for (let i = 0; i < bytes.length; i += 0x8000) {
            binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          }
          return btoa(binary);
        }""",
        [seconds, video, bits_per_second],
    )
    return base64.b64decode(encoded)


def pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
