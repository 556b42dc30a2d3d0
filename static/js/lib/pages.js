// Pages register themselves; nothing else runs when a page module is imported.
//
// A template marks the element a page script works in with data-page="<name>" and loads the
// module static/js/pages/<name>.js, which calls registerPage("<name>", mount). mount(root) runs
// once per such element: when the page has loaded, and for elements that an htmx swap brings in
// later. Sealed placeholders (lib/placeholders.js) are opened after the pages in the same piece
// of the document have mounted, because mounting is where a page registers its openers.

import { openPlaceholders } from "./placeholders.js";

const pages = new Map();
const mounted = new WeakSet();

export function registerPage(name, mount) {
  if (pages.has(name)) throw new Error(`page ${name} is registered twice`);
  pages.set(name, mount);
  if (globalThis.document) whenReady(() => mountWithin(document));
}

/** Mount every registered page inside `root` that is not mounted yet, then open placeholders. */
export function mountWithin(root) {
  const candidates = [];
  if (root.matches?.("[data-page]")) candidates.push(root);
  candidates.push(...root.querySelectorAll("[data-page]"));
  for (const element of candidates) {
    const mount = pages.get(element.dataset.page);
    if (!mount || mounted.has(element)) continue;
    mounted.add(element);
    try {
      const result = mount(element);
      if (result && typeof result.catch === "function") result.catch(reportMountFailure(element));
    } catch (error) {
      reportMountFailure(element)(error);
    }
  }
  openPlaceholders(root);
}

function reportMountFailure(element) {
  return () => {
    // The page's own code failed: say so where the page shows alerts, never with details.
    const alert = element.querySelector("[data-page-alert]") || element.querySelector(".form-alert");
    if (alert) {
      alert.textContent =
        "Part of this page could not be made ready. Please reload the page. If it keeps happening, tell your facilitator.";
    }
    element.setAttribute("data-page-failed", "");
  };
}

function whenReady(run) {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run, { once: true });
  } else {
    run();
  }
}

// Content swapped in by htmx may hold pages or placeholders of its own.
if (globalThis.document) {
  document.addEventListener("htmx:load", (event) => {
    if (event.target instanceof Element) mountWithin(event.target);
  });
}
