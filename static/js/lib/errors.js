// The one place that turns a failure into a sentence a person can read.
//
// Every error whose message is written for people (the server's own sentence, "your keys are not
// available in this tab", "this could not be confirmed") extends ShowableError. Anything else
// (a bug, a browser quirk) is never shown as it is: its text may be technical, or may even hold
// something it should not, so the person gets GENERIC_MESSAGE instead.

export const GENERIC_MESSAGE =
  "Something went wrong and nothing was changed. Please try again in a moment.";

export const NETWORK_MESSAGE =
  "We could not reach the portal. Check your connection and try again.";

/** A calm sentence for content that could not be opened and checked. */
export const COULD_NOT_CHECK =
  "This could not be shown, because this page could not confirm that it is exactly what was " +
  "written. Nothing from it has been shown. Please tell your facilitator: they can look into it " +
  "with you.";

/** An error whose message is a sentence fit to show as it is. */
export class ShowableError extends Error {
  constructor(message) {
    super(message);
    this.name = "ShowableError";
  }
}

/**
 * A request that failed: the server's sentence (or ours when it sent none), the HTTP status (0
 * when the portal could not be reached), the input it is about and, after a 429, how long to wait.
 */
export class ApiError extends ShowableError {
  constructor(message, { status = 0, field = null, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

/**
 * The sentence for any failure; `fallback` for a failure with no sentence of its own, when the
 * page can say more than GENERIC_MESSAGE about what was going on.
 */
export function sentenceFor(error, fallback = GENERIC_MESSAGE) {
  return error instanceof ShowableError && error.message ? error.message : fallback;
}
