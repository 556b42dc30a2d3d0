// The files added in the composer (templates/letters/_media_add.html, #files-section): scanned
// pages, kept in the chosen order (move up, move down, remove), and sound or video files. A file
// is checked here before anything is sent: its kind, the formats the recipient agreed to, the
// number of parts and the size limit. After a reload the files of an unsent message are listed
// again, to be chosen again (a page cannot keep a file it was given).

import { el } from "../lib/dom.js";
import { FORMAT_OF, classify, isVideo, mediaDuration, mimeOf } from "./file-kinds.js";
import { MAX_PARTS } from "./seal.js";
import { formatBytes, formatDuration } from "./upload.js";

const REFUSED_KIND = { page: "letters", audio: "sound", video: "video" };

export class FileList {
  /**
   * `elements`: the section's elements. `limits()` -> {formats, maxBytes, otherParts (1 with a
   * recording), totalBytes(extraItems)}; `busy()` while sending; `onChange()` when what would
   * be sent changes; `onRemoved()` after a file is removed.
   */
  constructor(elements, { limits, busy, onChange, onRemoved }) {
    this.el = elements;
    this.limits = limits;
    this.busy = busy;
    this.onChange = onChange;
    this.onRemoved = onRemoved;
    this.items = []; // {key, kind, mime, name, size, lastModified, durationMs, file, needsFile}
    elements.input.addEventListener("change", () => {
      const chosen = [...elements.input.files];
      elements.input.value = "";
      this.add(chosen);
    });
  }

  async add(chosen) {
    const { el } = this;
    const { formats, maxBytes, otherParts, totalBytes } = this.limits();
    el.inputError.textContent = "";
    const problems = [];
    const added = [];
    for (const file of chosen) {
      const mime = mimeOf(file);
      const kind = classify(mime);
      if (!kind) {
        problems.push(`“${file.name}” cannot be added: only photos or scans (JPEG, PNG, WebP or PDF), sound files or video files can be sent.`);
        continue;
      }
      if (!formats.includes(FORMAT_OF[kind])) {
        problems.push(`“${file.name}” cannot be added: the person you are writing to has not agreed to receive ${REFUSED_KIND[kind]}.`);
        continue;
      }
      if (this.items.length + added.length + otherParts >= MAX_PARTS - 1) {
        problems.push(`“${file.name}” was not added: a message can have at most ${MAX_PARTS - 2} files.`);
        continue;
      }
      const item = { key: crypto.randomUUID(), kind: kind === "page" ? "page" : "attachment", mime,
        name: file.name, size: file.size, lastModified: file.lastModified, durationMs: null, file,
        needsFile: false };
      if (kind !== "page") item.durationMs = await mediaDuration(file, kind === "video");
      added.push(item);
    }
    this.items.push(...added);
    const over = totalBytes() > maxBytes;
    if (over) {
      for (const item of added) this.items.splice(this.items.indexOf(item), 1);
      const what = added.length === 1 ? `“${added[0].name}” was not added` : "These files were not added";
      problems.push(`${what}: the message would be ${formatBytes(totalBytes(added))}, and the limit for one message is ${formatBytes(maxBytes)}. Nothing has been sent.`);
    }
    if (problems.length) el.inputError.textContent = problems.join(" ");
    if (added.length && !over) {
      el.filesStatus.textContent = added.length === 1
        ? `Added “${added[0].name}”.`
        : `Added ${added.length} files.`;
    }
    this.render();
    this.onChange();
  }

  /** Names of the files the recipient did not agree to receive, in quotes. */
  refused(formats) {
    return this.items
      .filter((item) => !formats.includes(FORMAT_OF[classify(item.mime)]))
      .map((item) => `“${item.name}”`);
  }

  /** The files to be chosen again before sending (after a reload). */
  missing() {
    return this.items.filter((item) => item.needsFile);
  }

  get pages() {
    return this.items.filter((item) => item.kind === "page");
  }

  /** "Page 1 of 2: scan.png" or "Video file: film.webm". */
  label(item) {
    const pages = this.pages;
    return item.kind === "page"
      ? `Page ${pages.indexOf(item) + 1} of ${pages.length}: ${item.name}`
      : `${isVideo(item.mime) ? "Video" : "Sound"} file: ${item.name}`;
  }

  /** The files of an unsent message taken up again: listed, each to be chosen again. */
  restore(files) {
    this.items = (files || []).map((f) => ({ key: crypto.randomUUID(), kind: f.kind,
      mime: f.mime, name: f.name, size: f.size, lastModified: f.last_modified,
      durationMs: f.duration_ms, file: null, needsFile: true }));
  }

  render() {
    const { el } = this;
    el.list.replaceChildren(...this.items.map((item, position) => this.row(item, position)));
    el.list.hidden = this.items.length === 0;
  }

  row(item, position) {
    const li = el("li", { class: "file-item" });
    if (item.kind === "page" && item.mime.startsWith("image/") && item.file) {
      const img = el("img", { class: "file-thumb", alt: `Preview of ${item.name}` });
      const url = URL.createObjectURL(item.file);
      const revoke = () => URL.revokeObjectURL(url);
      img.addEventListener("load", revoke, { once: true });
      img.addEventListener("error", revoke, { once: true });
      img.src = url;
      li.append(img);
    }
    const facts = [formatBytes(item.size), item.durationMs ? formatDuration(item.durationMs) : ""];
    li.append(
      el("p", { class: "file-name" }, this.label(item)),
      el("p", { class: "hint" }, facts.filter(Boolean).join(", ")),
    );
    if (item.needsFile) li.append(...this.chooseAgainField(item));
    // The visible words start the accessible name, then the file's name for screen readers
    // ("Move up letter-page-1.png"): voice control users say what they see (WCAG 2.5.3).
    const button = (text, action, disabled) => {
      const b = el("button", { type: "button", class: "button secondary small",
        "aria-disabled": disabled ? "true" : null },
      text, el("span", { class: "visually-hidden" }, ` ${item.name}`));
      b.addEventListener("click", () => {
        if (b.getAttribute("aria-disabled") !== "true" && !this.busy()) action();
      });
      return b;
    };
    li.append(el("div", { class: "actions file-actions" },
      button("Move up", () => this.move(position, -1), position === 0),
      button("Move down", () => this.move(position, 1), position === this.items.length - 1),
      button("Remove", () => this.remove(position), false)));
    return li;
  }

  chooseAgainField(item) {
    const inputId = `again-${item.key}`;
    const input = el("input", { type: "file", id: inputId, "aria-describedby": `${inputId}-error` });
    const error = el("p", { class: "field-error", id: `${inputId}-error`, "aria-live": "polite" });
    input.addEventListener("change", () => this.chooseAgain(item, input.files[0], error));
    return [
      el("p", { class: "notice warning" },
        "To go on sending, please choose this file again. It is not sent until you do."),
      el("label", { for: inputId }, `Choose “${item.name}” again`),
      error,
      input,
    ];
  }

  move(position, step) {
    const to = position + step;
    if (to < 0 || to >= this.items.length) return;
    const [item] = this.items.splice(position, 1);
    this.items.splice(to, 0, item);
    this.render();
    this.el.filesStatus.textContent = `Moved “${item.name}” ${step < 0 ? "up" : "down"}.`;
    const buttons = this.el.list.children[to].querySelectorAll("button");
    const again = buttons[step < 0 ? 0 : 1];
    (again.getAttribute("aria-disabled") === "true" ? buttons[2] : again).focus();
    this.onChange();
  }

  remove(position) {
    const [item] = this.items.splice(position, 1);
    this.onRemoved();
    this.el.filesStatus.textContent = `Removed “${item.name}”.`;
    const next = this.el.list.children[Math.min(position, this.items.length - 1)];
    (next ? next.querySelector("button") : this.el.input).focus();
    this.onChange();
  }

  chooseAgain(item, file, error) {
    if (!file) return;
    if (file.size !== item.size || file.lastModified !== item.lastModified) {
      error.textContent = `This is not the same file: “${file.name}” has a different size or date. Please choose the file you added before, or remove it.`;
      return;
    }
    item.file = file;
    item.needsFile = false;
    this.render();
    this.el.filesStatus.textContent = `Found “${item.name}” again.`;
    this.onChange();
  }
}
