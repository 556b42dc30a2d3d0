// The one way dates are written in the browser, in the person's own time zone (the server
// writes the dates it renders itself; the browser writes only those it learns in JSON, such as
// when a draft was saved). Each function takes an ISO 8601 string or a Date and gives "" for
// nothing or for something that is not a date.

const DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric" });
const DATE_TIME = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const DAY_TIME = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  hour: "2-digit",
  minute: "2-digit",
});

function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "3 March 2025" */
export function formatDate(value) {
  const date = toDate(value);
  return date ? DATE.format(date) : "";
}

/** "3 March 2025 at 14:05" */
export function formatDateTime(value) {
  const date = toDate(value);
  return date ? DATE_TIME.format(date) : "";
}

/** "3 March at 14:05": for things of the last days, such as when a draft was saved. */
export function formatDayTime(value) {
  const date = toDate(value);
  return date ? DAY_TIME.format(date) : "";
}

/** "2 minutes 5 seconds", "45 seconds", "1 minute": how long, from whole seconds. */
export function formatSeconds(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
}
