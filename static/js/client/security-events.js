// Refusals of keys and content the trust chain does not vouch for (docs/api-trust.md,
// "Refusals"): NotGenuine carries the calm sentence a page shows, and the refusal is reported
// to the server (POST /api/security-events) so the case's facilitators and the service managers
// see it. Reporting is best effort: it never delays or changes the refusal, and a report that
// fails is dropped (the refusal itself is what protects the person).

import { ShowableError } from "../lib/errors.js";
import { postJSON } from "../lib/http.js";

export const KINDS = Object.freeze([
  "case-key-not-genuine",
  "case-grant-not-genuine",
  "release-not-genuine",
  "invitation-not-genuine",
  "trust-log-not-genuine",
]);

// What could not be confirmed, and whom to tell: a participant's keys and content come from
// their facilitator, a member of staff's from certified staff of the service.
const FROM = {
  participant: "as coming from your facilitator",
  staff: "as coming from certified staff of the service",
};
const TELL = {
  participant: "Nothing was opened. Please tell your facilitator or the service.",
  staff: "Nothing was opened. Please tell your service manager.",
};
const CASE_KEY = {
  participant: (from) =>
    `Your case's key could not be confirmed ${from}, so nothing can be sent from here for now.`,
  staff: (from) => `This case's key could not be confirmed ${from}, so nothing can be sealed for it.`,
};
const WHAT = {
  "case-key-not-genuine": (from, audience) => CASE_KEY[audience](from),
  "case-grant-not-genuine": (from, audience) => CASE_KEY[audience](from),
  "release-not-genuine": (from) => `This could not be confirmed ${from}.`,
  "trust-log-not-genuine": () =>
    "This page could not confirm who the staff of this service are, so nothing could be " +
    "confirmed as coming from them.",
};

// Someone joining has no facilitator yet, and nothing was opened: nothing was done at all.
const INVITATION =
  "This invitation could not be confirmed as coming from the service, so nothing was done " +
  "with it. Please contact the service that invited you.";

function sentence(kind, audience) {
  if (kind === "invitation-not-genuine") return INVITATION;
  return `${WHAT[kind](FROM[audience], audience)} ${TELL[audience]}`;
}

/**
 * A key, grant or piece of content the trust chain does not vouch for: nothing of it was opened
 * or used. `kind` is one of KINDS; `audience` "participant" or "staff" picks the sentence.
 */
export class NotGenuine extends ShowableError {
  constructor(kind, details = {}) {
    const { audience = "participant", caseId = null, messageId = null, lookupId = null } = details;
    if (!KINDS.includes(kind)) throw new TypeError("unknown kind of refusal");
    super(sentence(kind, audience === "staff" ? "staff" : "participant"));
    this.name = "NotGenuine";
    this.kind = kind;
    this.caseId = caseId;
    this.messageId = messageId;
    this.lookupId = lookupId;
  }
}

/** Tell the server about a refusal; resolves either way, never throws. */
export async function reportSecurityEvent(refusal) {
  const body = { kind: refusal.kind };
  if (refusal.caseId) body.case_id = refusal.caseId;
  if (refusal.messageId) body.message_id = refusal.messageId;
  if (refusal.lookupId) body.lookup_id = refusal.lookupId;
  try {
    await postJSON("/api/security-events", body);
  } catch {
    // Best effort: the person is already told, and nothing was opened.
  }
}

/**
 * The refusal to throw, reported in the background (not awaited: a slow or failing report must
 * not hold up the page's answer). Usage: `throw refuse("release-not-genuine", {messageId})`.
 */
export function refuse(kind, details = {}) {
  const refusal = new NotGenuine(kind, details);
  reportSecurityEvent(refusal);
  return refusal;
}
