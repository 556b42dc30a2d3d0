// Loaded on every page by base.html, before the page's own module. The composition root of the
// browser side, and nothing else global:
//   - quick exit (lib/quick-exit.js) and one history entry (lib/navigation.js), both of which
//     forget everything this tab holds when the person leaves;
//   - the warning before an idle session ends, on signed-in pages (lib/idle.js);
//   - htmx: sealed and confirmed forms (lib/sealed-forms.js) and what happens when a request
//     comes back (lib/responses.js).
// Page modules (static/js/pages/) register themselves with lib/pages.js.

import { wipeKeys } from "./crypto/keys.js";
import { startIdleWarning } from "./lib/idle.js";
import { startNavigation } from "./lib/navigation.js";
import { drawQrCodes } from "./lib/qr.js";
import { showProtectionNotice } from "./lib/protection-notice.js";
import { startQuickExit } from "./lib/quick-exit.js";
import { startResponses } from "./lib/responses.js";
import { installSealedForms } from "./lib/sealed-forms.js";

/** Everything this tab keeps: the session store and any key in memory. */
function wipeEverything() {
  wipeKeys();
  try {
    sessionStorage.clear();
  } catch {
    // Storage switched off: nothing was stored.
  }
}

startQuickExit({ wipe: wipeEverything });
startNavigation({ wipe: wipeEverything });
startResponses();
if (window.htmx) installSealedForms(window.htmx);
drawQrCodes(document);
if (document.body.dataset.signedIn === "true") {
  startIdleWarning({ wipe: wipeEverything });
  showProtectionNotice();
}
