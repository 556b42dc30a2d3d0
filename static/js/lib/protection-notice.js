// The notice that this account's password is protected less strongly than the portal's
// standard (client/accounts.js decides, at sign-in, from the cost the server named). Kept for
// this tab only, until the password is changed; shown at the top of every signed-in page as a
// calm status, never as an alert.

const FLAG = "portal.weak-protection";

export function rememberWeakProtection(weak) {
  try {
    if (weak) {
      sessionStorage.setItem(FLAG, "1");
    } else {
      sessionStorage.removeItem(FLAG);
    }
  } catch {
    // Storage switched off: the notice is not shown, nothing else changes.
  }
}

function remembered() {
  try {
    return sessionStorage.getItem(FLAG) === "1";
  } catch {
    return false;
  }
}

/** On a signed-in page, say it once at the top of the main content. */
export function showProtectionNotice() {
  const main = document.getElementById("main");
  if (!main || !remembered() || main.querySelector("[data-protection-notice]")) return;
  const notice = document.createElement("p");
  notice.className = "notice warning";
  notice.setAttribute("role", "status");
  notice.dataset.protectionNotice = "";
  notice.append(
    "Your password is protected less strongly than this portal now asks for. ",
    Object.assign(document.createElement("a"), {
      href: "/account/password",
      textContent: "Change your password",
    }),
    " to bring it up to date.",
  );
  main.prepend(notice);
}
