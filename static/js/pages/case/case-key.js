// The case page's hand-over of the case public key (static/js/pages/case.js): to every
// participant the server marks as waiting for it (data-needs-case-key), and to supporters and
// representatives who may write (data-supporter-id), when the page loads and whenever htmx
// brings such a card. The grant itself is client/cases.js giveCaseKey.

import { giveCaseKey } from "../../client/cases.js";
import { say } from "../../lib/dom.js";
import { sentenceFor } from "../../lib/errors.js";
import { showAlert } from "../../lib/forms.js";

/**
 * A function that gives the key to everyone waiting within an element. `caseReady()`: the
 * opened case (a promise); `callName(card, {start})`: a participant's name for sentences.
 */
export function caseKeyGiver({ caseReady, pageAlert, statusRegion, callName }) {
  // Supporters and representatives who may write wait for it too (data-supporter-id).
  const giving = new Set(); // who was given the key by this page (or is being given it)
  const holderOf = (card) => card.dataset.supporterId || card.dataset.participantId;
  async function giveWaitingKeys(within) {
    if (!(within instanceof Element)) return;
    const cards = [within, ...within.querySelectorAll("[data-needs-case-key]")].filter(
      (card) => card.matches("[data-needs-case-key]") && !giving.has(holderOf(card)),
    );
    if (!cards.length) return;
    cards.forEach((card) => giving.add(holderOf(card)));
    let opened;
    try {
      opened = await caseReady();
    } catch {
      return; // the page alert already says why
    }
    const given = [];
    for (const card of cards) {
      try {
        const { participantId, supporterId, publicKey } = card.dataset;
        await giveCaseKey(opened, participantId, publicKey, { supporterId });
        card.removeAttribute("data-needs-case-key");
        given.push(supporterId ? card.dataset.callName : await callName(card));
      } catch (error) {
        giving.delete(holderOf(card));
        const who = card.dataset.supporterId
          ? card.dataset.startName
          : await callName(card, { start: true });
        showAlert(
          pageAlert,
          `${who} has joined, but could not be given this case's key yet: ${sentenceFor(error)} Reload the page to try again.`,
        );
      }
    }
    if (given.length) {
      say(
        statusRegion,
        `Your browser gave ${joinNames(given)} this case's key, so ${given.length === 1 ? "they" : "they each"} can now write.`,
      );
    }
  }
  return giveWaitingKeys;
}

function joinNames(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
