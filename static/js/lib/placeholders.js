// Sealed content in server-rendered pages.
//
// The server cannot read what it stores, so a page it renders holds placeholders where sealed
// content goes: an element with data-sealed="<kind>" and, in further data- attributes, what is
// needed to find and open it (an object id and version, a URL for its JSON, a ciphertext for
// short things such as a display name). The element's own text is what shows until it opens
// (for example "Person harmed" until the name is unlocked) and stays if it cannot be opened.
//
// Each kind has one opener, registered by the page (or the client module) that knows how to open
// it: registerOpener(kind, async (element) => {...}). openPlaceholders(root) runs the opener of
// every placeholder in root that has not been tried yet: when a page mounts, and after every
// htmx swap (lib/pages.js). An opener puts decrypted text in with textContent only. State is
// kept on the element: data-sealed-state = "opening" | "open" | "failed".

const openers = new Map();

export function registerOpener(kind, open) {
  openers.set(kind, open);
  if (globalThis.document) openPlaceholders(document);
}

export function openPlaceholders(root) {
  const found = [];
  if (root.matches?.("[data-sealed]")) found.push(root);
  found.push(...root.querySelectorAll("[data-sealed]"));
  const waiting = [];
  for (const element of found) {
    if (element.dataset.sealedState) continue;
    const open = openers.get(element.dataset.sealed);
    if (!open) continue; // its opener registers later, and opens it then
    element.dataset.sealedState = "opening";
    waiting.push(
      Promise.resolve()
        .then(() => open(element))
        .then(
          () => {
            element.dataset.sealedState = "open";
          },
          () => {
            element.dataset.sealedState = "failed";
          },
        ),
    );
  }
  return Promise.all(waiting);
}
