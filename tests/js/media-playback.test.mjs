// The pure parts of playback: which way a part is played (media/playable-types.js) and which
// failures are failed checks (media/problems.js). The players themselves need a real browser
// (tests/browser/test_media_journey.py).
import "./support/dom.mjs";

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  baseType,
  isFragmentedMp4,
  streamType,
  withCodecs,
} from "../../static/js/media/playable-types.js";
import { isCheckFailure, problemNotice } from "../../static/js/media/problems.js";
import { DecryptionFailed, MalformedInput } from "../../static/js/crypto/protocol.js";
import { ChunkUnavailable } from "../../static/js/media/open.js";

/** An MP4 box: 4-byte size, 4-letter type, body. */
function box(type, ...body) {
  const inner = body.flatMap((part) => [...part]);
  const out = new Uint8Array(8 + inner.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(inner, 8);
  return out;
}

const join = (...parts) => Uint8Array.from(parts.flatMap((part) => [...part]));

/** A MediaSource stand-in that takes exactly the types given. */
function mediaSourceTaking(...types) {
  return class {
    static isTypeSupported(type) {
      return types.includes(type);
    }
  };
}

const WEBM_HEAD = new TextEncoder().encode("\x1aE\xdf\xa3 webm ... V_VP8 ... A_OPUS ...");

describe("media/playable-types.js", () => {
  test("baseType drops the parameters and the case", () => {
    assert.equal(baseType("Video/WebM; codecs=vp8,opus"), "video/webm");
  });

  test("an MP4 is fragmented when it has a moof, or mvex inside its moov", () => {
    const ftyp = box("ftyp", new Uint8Array(8));
    assert.equal(isFragmentedMp4(join(ftyp, box("moov", box("mvex")), box("moof"))), true);
    assert.equal(isFragmentedMp4(join(ftyp, box("moof"))), true);
    // Media before any index or fragment, or one moov with its whole index: a plain MP4.
    assert.equal(isFragmentedMp4(join(ftyp, box("mdat", new Uint8Array(4)), box("moof"))), false);
    assert.equal(isFragmentedMp4(join(ftyp, box("moov", box("trak")))), false);
    // Nonsense sizes are not taken for anything.
    assert.equal(isFragmentedMp4(Uint8Array.from([0, 0, 0, 3, 109, 111, 111, 102])), false);
  });

  test("a WebM chosen from disk gets the codecs its header names", () => {
    assert.equal(withCodecs("video/webm", WEBM_HEAD), 'video/webm;codecs="vp8,opus"');
    assert.equal(withCodecs("audio/webm;codecs=opus", WEBM_HEAD), "audio/webm;codecs=opus");
    assert.equal(withCodecs("audio/mpeg", WEBM_HEAD), "audio/mpeg");
  });

  test("streamed only when MediaSource takes the type (and an MP4 only if fragmented)", () => {
    const webm = 'video/webm;codecs="vp8,opus"';
    assert.equal(streamType("video/webm", WEBM_HEAD, mediaSourceTaking(webm)), webm);
    assert.equal(streamType("audio/wav", new Uint8Array(8), mediaSourceTaking(webm)), null);
    assert.equal(streamType("video/webm", WEBM_HEAD, undefined), null);
    const mp4 = mediaSourceTaking("video/mp4");
    const plain = join(box("ftyp"), box("moov", box("trak")), box("mdat"));
    assert.equal(streamType("video/mp4", plain, mp4), null);
    assert.equal(streamType("video/mp4", join(box("ftyp"), box("moof")), mp4), "video/mp4");
  });
});

describe("media/problems.js", () => {
  test("only the protocol's checks count as failed checks", () => {
    assert.equal(isCheckFailure(new DecryptionFailed("x")), true);
    assert.equal(isCheckFailure(new MalformedInput("x")), true);
    assert.equal(isCheckFailure(new ChunkUnavailable("offline")), false);
    assert.equal(isCheckFailure(new Error("x")), false);
    assert.equal(isCheckFailure(null), false);
  });

  test("the notice is an alert holding the sentence as text", () => {
    const notice = problemNotice("<b>not markup</b>");
    assert.equal(notice.getAttribute("role"), "alert");
    assert.equal(notice.textContent, "<b>not markup</b>");
    assert.equal(notice.children.length, 0);
  });
});
