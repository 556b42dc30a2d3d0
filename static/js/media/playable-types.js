// Which way a recording or an audio/video file can be played (media/player.js): streamed through
// MediaSource, or only from a whole Blob. Pure: it reads the type and the first chunk's bytes.
//
//   baseType(mime)                                 "video/webm;codecs=vp8,opus" -> "video/webm"
//   isFragmentedMp4(bytes)                          an MP4 MediaSource can take
//   withCodecs(mime, firstChunk)                    a WebM type with the codecs its header names
//   streamType(mime, firstChunk, MediaSource)       the type to stream with, or null

/** "video/webm;codecs=vp8,opus" -> "video/webm" */
export function baseType(mime) {
  return mime.split(";")[0].trim().toLowerCase();
}

/**
 * True when the first bytes of an MP4 show it is fragmented (a `moof`, or `mvex` in `moov`), so
 * MediaSource can take it; a plain MP4 keeps its index in one `moov` that MSE refuses.
 */
export function isFragmentedMp4(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxType = (at) => String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  const boxes = (from, to, visit) => {
    let at = from;
    while (at + 8 <= to) {
      let size = view.getUint32(at);
      let header = 8;
      if (size === 1 && at + 16 <= to) {
        size = Number(view.getBigUint64(at + 8));
        header = 16;
      } else if (size === 0) {
        size = to - at;
      }
      if (size < header) return false;
      const result = visit(boxType(at), at + header, Math.min(at + size, to));
      if (result !== undefined) return result;
      at += size;
    }
    return undefined;
  };
  const found = boxes(0, bytes.length, (type, start, end) => {
    if (type === "moof") return true;
    if (type === "mdat") return false; // media before any index or fragment: a plain MP4
    if (type === "moov") {
      return boxes(start, end, (inner) => (inner === "mvex" ? true : undefined)) === true;
    }
    return undefined;
  });
  return found === true;
}

// WebM codec ids (Matroska CodecID) and the codecs parameter MediaSource wants for them.
const WEBM_CODECS = [
  ["V_VP8", "vp8"],
  ["V_VP9", "vp9"],
  ["V_AV1", "av01.0.08M.08"],
  ["A_OPUS", "opus"],
  ["A_VORBIS", "vorbis"],
];

/**
 * A WebM file chosen from disk arrives typed "video/webm" with no codecs, which MediaSource
 * will not take; its header (in the first chunk) names them, so add them. Other types as given.
 */
export function withCodecs(mime, firstChunk) {
  const base = baseType(mime);
  if ((base !== "video/webm" && base !== "audio/webm") || /codecs=/i.test(mime)) return mime;
  const head = String.fromCharCode(...firstChunk.subarray(0, Math.min(firstChunk.length, 4096)));
  const found = WEBM_CODECS.filter(([id]) => head.includes(id)).map(([, codec]) => codec);
  return found.length > 0 ? `${base};codecs="${found.join(",")}"` : mime;
}

/**
 * The type to stream this part with, or null to play it from a whole Blob instead (no
 * MediaSource here, a type it does not take, or an MP4 that is not fragmented).
 */
export function streamType(mime, firstChunk, MediaSource = globalThis.window?.MediaSource) {
  const type = withCodecs(mime, firstChunk);
  if (typeof MediaSource !== "function" || !MediaSource.isTypeSupported(type)) return null;
  const base = baseType(type);
  if (base === "video/mp4" || base === "audio/mp4" || base === "audio/x-m4a") {
    return isFragmentedMp4(firstChunk) ? type : null;
  }
  return type;
}
