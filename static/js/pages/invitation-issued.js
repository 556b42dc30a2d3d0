// Showing an invitation made in this browser, once: the code and the join link go into the
// notice the server rendered hidden ([data-invitation-issued], with [data-invitation-code],
// [data-join-link] and [data-expires]). Used by pages/invitations.js and
// pages/participant-invitation.js; not a page itself.

import { formatDate } from "../lib/dates.js";
import { focusOn } from "../lib/dom.js";

/** Fill `notice` with `issued` ({codeText, link, expiresAt}) and show it. */
export function showIssuedInvitation(notice, issued, { heading = null } = {}) {
  const slot = (name) => notice.querySelector(`[data-${name}]`);
  slot("invitation-code").textContent = issued.codeText;
  slot("join-link").textContent = issued.link;
  const expires = slot("expires");
  if (expires) expires.textContent = formatDate(issued.expiresAt);
  if (heading !== null) slot("issued-heading").textContent = heading;
  notice.hidden = false;
  const title = slot("issued-heading") || notice;
  if (!title.hasAttribute("tabindex")) title.setAttribute("tabindex", "-1");
  focusOn(title);
}

/** Forget a shown code when the page is left (it is never shown again). */
export function forgetIssuedOnLeave(notice) {
  window.addEventListener("pagehide", () => {
    for (const name of ["invitation-code", "join-link"]) {
      const slot = notice.querySelector(`[data-${name}]`);
      if (slot) slot.textContent = "";
    }
  });
}
