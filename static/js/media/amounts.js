// Amounts in words for the sending and recording pages (media/upload.js re-exports these, as the
// composer imports them from there): sizes as the server words its limits, time left, lengths.
//
//   formatBytes(3355443) -> "3.2 MB"       formatTimeLeft(200) -> "about 3 minutes"
//   formatDuration(125000) -> "2 minutes 5 seconds"       formatClock(65000) -> "1:05"

import { formatSeconds } from "../lib/dates.js";

/**
 * "3.2 MB", "1 GB": binary units (1 GB = 1024 MB), as the server words its limits
 * (portal/content/quota.py human_bytes), so a limit reads the same on both sides.
 */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const whole = unit === 0 || value >= 10 || Number.isInteger(value);
  return `${whole ? Math.round(value) : value.toFixed(1).replace(/\.0$/, "")} ${units[unit]}`;
}

/** "about 3 minutes", "less than a minute" */
export function formatTimeLeft(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${hours} hour${hours === 1 ? "" : "s"}${rest ? ` ${rest} minutes` : ""}`;
}

/** "2 minutes 5 seconds", "45 seconds" */
export function formatDuration(ms) {
  return formatSeconds(Math.round((ms || 0) / 1000));
}

/** "1:05" for a running clock. */
export function formatClock(ms) {
  const total = Math.floor((ms || 0) / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}
