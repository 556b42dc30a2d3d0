// One history entry for the whole portal, and signing out.
//
// After quick exit, pressing Back must not bring the portal back, and the history list must not
// show a trail of portal pages. So the portal never adds to the browser's history: it keeps the
// one entry made when the person arrived, and every move inside the portal *replaces* it:
//   - same-origin links are followed with location.replace() instead of a normal click
//     (links marked [data-nav-push], with a target, a download, a modifier key, or only a
//     #fragment keep the browser's normal behaviour);
//   - GET forms that are not htmx forms are turned into location.replace(action?query);
//   - the sign-out form is sent with fetch() and the page then replaces itself with wherever
//     the server redirected;
//   - htmx requests never push history (hx-push-url is not used in this portal), and when the
//     server names the next page (HX-Redirect) lib/responses.js replaces this entry with it.
// Forms that change something on the server use htmx or a client module, never a plain
// submission, which would add an entry.

const SIGNED_OUT = "/sign-in?reason=signed-out";

/**
 * Every move the portal makes itself goes through here: replace the one history entry. (An
 * object, so that node tests can watch where a page would have gone.)
 */
export const browserLocation = {
  replace(url) {
    location.replace(url);
  },
};

let wipeEverything = () => {};

function sameOrigin(url) {
  return url.origin === location.origin;
}

function followLinksInPlace(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (!(event.target instanceof Element)) return;
  const link = event.target.closest("a[href]");
  if (!link || link.hasAttribute("download") || link.hasAttribute("data-nav-push")) return;
  if (link.target && link.target !== "_self") return;
  if (link.getAttribute("href").startsWith("#")) return;
  const url = new URL(link.href, location.href);
  if (!sameOrigin(url)) return;
  const samePage = url.pathname === location.pathname && url.search === location.search;
  if (samePage && url.hash) return; // a jump within this page
  event.preventDefault();
  browserLocation.replace(url.href);
}

function submitInPlace(event) {
  if (event.defaultPrevented) return;
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.matches("[data-sign-out]")) {
    event.preventDefault();
    signOut(form);
    return;
  }
  // htmx forms and page scripts handle their own submissions.
  if (form.matches("[hx-get], [hx-post], [hx-put], [hx-delete]")) return;
  const submitter = event.submitter;
  const method = (submitter?.getAttribute("formmethod") || form.method || "get").toLowerCase();
  const target = submitter?.getAttribute("formtarget") || form.target;
  if (method !== "get" || (target && target !== "_self")) return;
  const url = new URL(submitter?.formAction || form.action, location.href);
  if (!sameOrigin(url)) return;
  event.preventDefault();
  const data = new FormData(form, submitter);
  url.search = new URLSearchParams(data).toString();
  browserLocation.replace(url.href);
}

/**
 * Sign out: forget the keys here, ask the server to end the session, then replace this page
 * with where the server sent us (the sign-in page). If the request cannot be made, the form is
 * submitted the ordinary way so that signing out still happens.
 */
export async function signOut(form = document.querySelector("form[data-sign-out]")) {
  wipeEverything();
  const action = form ? form.action : "/sign-out";
  const body = new URLSearchParams(form ? new FormData(form) : undefined);
  if (!body.has("csrf_token")) {
    body.set("csrf_token", document.querySelector('meta[name="csrf-token"]')?.content || "");
  }
  try {
    const response = await fetch(action, {
      method: "POST",
      body,
      credentials: "same-origin",
      redirect: "follow",
    });
    if (response.redirected || response.ok) {
      browserLocation.replace(response.redirected ? response.url : SIGNED_OUT);
      return;
    }
  } catch {
    // Fall through to the ordinary submission.
  }
  if (form) {
    form.submit();
  } else {
    browserLocation.replace(SIGNED_OUT);
  }
}

export function startNavigation({ wipe }) {
  wipeEverything = wipe;
  document.addEventListener("click", followLinksInPlace);
  document.addEventListener("submit", submitInPlace);
}
