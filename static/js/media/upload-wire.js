// What a PUT of sealed chunks says and what the server's answer must say back (docs/api-media.md,
// "Uploading" and "Several chunks in one PUT"): the upload's address, the held-chunk map, the
// X-Chunks spelling of a hash, the check of an answer against what was sent, and the sentence
// for each refusal. Pure: no network, no page; media/upload.js does the sending.

export function uploadUrl(objectId, version) {
  return `/api/uploads/${encodeURIComponent(objectId)}/${encodeURIComponent(version)}`;
}

/** "part/index" -> the server's record of a held chunk. */
export function heldMap(held) {
  const map = new Map();
  for (const row of Array.isArray(held) ? held : []) map.set(`${row.part}/${row.index}`, row);
  return map;
}

/** A chunk's hash as the X-Chunks header and the server's answers spell it: base64url. */
export function hashText(hash) {
  let binary = "";
  for (const byte of hash) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Whether the server's answer holds exactly the chunks sent (sizes, and hashes if listed). */
export function heldAsSent(chunks, answer, listed) {
  if (!listed) {
    return !(answer && typeof answer.size === "number" && answer.size !== chunks[0].data.length);
  }
  const rows = answer && Array.isArray(answer.chunks) ? answer.chunks : [];
  return rows.length === chunks.length && chunks.every((chunk, i) =>
    rows[i].part === chunk.part && rows[i].index === chunk.index &&
    rows[i].size === chunk.data.length && rows[i].hash === hashText(chunk.hash));
}

export function putRefusal(status) {
  if (status === 413) return "Your message is larger than the portal accepts. Nothing was sent.";
  if (status === 409) {
    return "The portal already holds a different copy of part of this message. Please start sending again.";
  }
  if (status === 404 || status === 401 || status === 403) {
    return "Sending could not go on: you may have been signed out. Please sign in again. Nothing is lost.";
  }
  return "Something went wrong while sending. Please try again in a moment.";
}
