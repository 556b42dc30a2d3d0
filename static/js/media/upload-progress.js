// How far an upload of recordings and files has gone, in the panel of
// templates/letters/_upload_progress.html. The compose page (pages/compose/sending.js) and the
// enter page (pages/enter.js, a facilitator entering a recording or scanned pages for someone
// without access) both show it; each wires Cancel and "Try sending again" itself.
//
//   progressFigures({sentBytes, totalBytes, percent, bytesPerSecond, secondsLeft}) -> words
//   uploadPanel(root) -> {panel, bar, figures, status, alert, cancel, retry, begin(words),
//                         show(progress)}

import { part, reveal } from "../lib/dom.js";
import { formatBytes, formatTimeLeft } from "./upload.js";

/** "40% sent · 2 MB of 5 MB · 1 MB a second · about 3 seconds left". */
export function progressFigures({ sentBytes, totalBytes, percent, bytesPerSecond, secondsLeft }) {
  const bits = [`${percent}% sent`, `${formatBytes(sentBytes)} of ${formatBytes(totalBytes)}`];
  if (bytesPerSecond) bits.push(`${formatBytes(bytesPerSecond)} a second`);
  if (secondsLeft !== null && secondsLeft !== undefined && percent < 100) {
    bits.push(`${formatTimeLeft(secondsLeft)} left`);
  }
  return bits.join(" · ");
}

/** The panel's parts in `root`, and the two things every page does with them. */
export function uploadPanel(root) {
  const $ = (id) => part(root, id);
  let lastAnnounced = 0;
  const panel = {
    panel: $("upload-progress"), bar: $("upload-bar"), figures: $("upload-figures"),
    status: $("upload-status"), alert: $("upload-alert"), cancel: $("upload-cancel"),
    retry: $("upload-retry"),
  };
  /** Shown from nothing sent, saying `words` (what is happening). */
  panel.begin = (words) => {
    panel.alert.textContent = "";
    panel.retry.hidden = true;
    panel.cancel.hidden = false;
    panel.bar.value = 0;
    panel.figures.textContent = "0% sent";
    panel.status.textContent = words;
    lastAnnounced = 0;
    reveal(panel.panel);
  };
  /** One progress report of media/upload.js. */
  panel.show = (progress) => {
    panel.bar.value = progress.percent;
    panel.figures.textContent = progressFigures(progress);
    // Announce every quarter, not every chunk: a screen reader would talk without a pause.
    const quarter = Math.floor(progress.percent / 25);
    if (quarter > lastAnnounced && progress.percent < 100) {
      lastAnnounced = quarter;
      panel.status.textContent = `${progress.percent}% sent.`;
    }
  };
  return panel;
}
