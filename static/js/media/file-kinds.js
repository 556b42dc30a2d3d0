// What a chosen file is, read here in the browser (the server never sees a file or its name):
// its type, whether it is a scanned page, a sound or a video, which format it counts as, and
// how long it plays. Also the one way the composer joins a list into words.

export const PAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
export const PAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".pdf"];

const BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp",
  pdf: "application/pdf", mp3: "audio/mpeg", m4a: "audio/mp4", aac: "audio/aac",
  wav: "audio/wav", ogg: "audio/ogg", oga: "audio/ogg", opus: "audio/ogg", weba: "audio/webm",
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm",
};

/** The format each kind of file counts as (docs/api-media.md: a scanned page is a letter). */
export const FORMAT_OF = { page: "letter", audio: "audio", video: "video" };

/** The file's type as the browser gives it, else from its name's extension, else "". */
export function mimeOf(file) {
  const type = (file.type || "").toLowerCase();
  if (type) return type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return BY_EXTENSION[ext] || "";
}

/** "page" (a scanned letter), "audio", "video", or null (not accepted at all). */
export function classify(mime) {
  if (PAGE_TYPES.includes(mime)) return "page";
  if (mime.startsWith("audio/")) return "audio";
  if (mime.startsWith("video/")) return "video";
  return null;
}

export function isVideo(mime) {
  return /^video\//.test(mime);
}

/** The length of an audio or video file, read locally from its metadata (ms), or null. */
export function mediaDuration(file, video) {
  return new Promise((resolve) => {
    const element = document.createElement(video ? "video" : "audio");
    const url = URL.createObjectURL(file);
    const done = (value) => {
      URL.revokeObjectURL(url);
      element.removeAttribute("src");
      resolve(value);
    };
    element.preload = "metadata";
    element.muted = true;
    element.addEventListener("loadedmetadata", () => {
      const seconds = element.duration;
      done(Number.isFinite(seconds) ? Math.round(seconds * 1000) : null);
    }, { once: true });
    element.addEventListener("error", () => done(null), { once: true });
    setTimeout(() => done(null), 10000);
    element.src = url;
  });
}

/** "a", "a and b", "a, b and c". */
export function joinAnd(list) {
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}
