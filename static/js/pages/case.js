// One case, for its facilitators (templates/cases/show.html). The server renders the page and
// only the actions allowed now, as htmx forms; this module does what only the facilitator's
// browser can, with the case key (every request and protocol call is client/cases.js's):
//   - opens the participants' names in place (placeholders data-sealed="participant-name");
//   - works out each security number from the participant's public key, compares the key with
//     the one pinned in my vault, shows the notice that fits (data-key-notice) and offers "We
//     compared this number in person" unless the key is pinned here (data-sealed=
//     "security-number");
//   - seals a new participant's name (sealer "add-participant") and pins a key compared in
//     person before it is recorded (sealer "mark-verified");
//   - opens and seals supporters' and representatives' names ("supporter-name",
//     "add-supporter"); their security numbers are the same opener and sealer as participants';
//   - gives the case's public key to everyone the server marks as waiting for it
//     (data-needs-case-key: case/case-key.js), when the page loads and whenever htmx brings
//     such a card;
//   - grants again what was released to someone whose key changed, or to a supporter compared
//     late, and grants a participant what was written on their behalf, once I have compared
//     their key in person (client/regrants.js), when the page loads and after a security
//     number is recorded as compared;
//   - copies an invitation's code or link;
//   - the case's records (case/records.js): seals a risk assessment's answers, a note and an
//     agreement item's description to the case key before they are sent, and opens them in place;
//   - the team (case/team.js): adds a colleague or hands the case over (sealers
//     "add-facilitator", "hand-over"), and, after a facilitator left, makes the case's next key
//     epoch before anything else is done with the case key.

import {
  NameNotOpened,
  VaultUnreadable,
  forgetCase,
  keyCheck,
  loadPins,
  openParticipantName,
  openSupporterName,
  pinComparedKey,
  sealParticipantName,
  sealSupporterName,
  securityNumber,
} from "../client/cases.js";
import { giveAccessAgain } from "../client/regrants.js";
import { caseKeyGiver } from "./case/case-key.js";
import { loadSecretKey } from "../client/session.js";
import { copyText, part, say } from "../lib/dom.js";
import { sentenceFor } from "../lib/errors.js";
import { InputProblem, showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { showQr } from "../lib/qr.js";
import { registerSealer } from "../lib/sealed-forms.js";
import { registerRecords } from "./case/records.js";
import { openStartingAfresh, registerTeamSealers, renewIfAsked } from "./case/team.js";

const MAX_NAME = 100;

function mount(root) {
  const caseId = root.dataset.caseId;
  const statusRegion = part(root, "case-status-message");
  const pageAlert = part(root, "case-alert");
  // Forgotten when the page is left (`retired`: the case keys before a new epoch made here).
  const held = { keys: null, caseKey: null, retired: [] };

  const keysReady = loadSecretKey().then((keys) => {
    held.keys = keys;
    return keys;
  });
  // The case opened with its current key; replaced when this page makes the next epoch.
  let caseReady = keysReady.then(async (keys) => {
    const opened = await openStartingAfresh(root, keys, caseId, { statusRegion });
    held.caseKey = opened.caseKey;
    return opened;
  });
  function renewWithin(within) {
    caseReady = caseReady.then(async (opened) => {
      const renewed = await renewIfAsked(within, opened, { statusRegion, pageAlert });
      if (renewed !== opened) held.retired.push(opened.caseKey);
      held.caseKey = renewed.caseKey;
      return renewed;
    });
  }
  renewWithin(root);
  caseReady.catch((error) => {
    // Nothing can be unlocked or sealed: say why once, and take away the form that would fail.
    showAlert(pageAlert, sentenceFor(error));
    const adding = document.getElementById("add-participant-section");
    if (adding) adding.hidden = true;
  });
  // My pins: none if my keys are not here (the page already says so); a vault that does not
  // open is said, and then nothing counts as compared by me.
  let pins = { data: {}, readable: true };
  const pinsReady = keysReady.then(
    (keys) =>
      loadPins(keys)
        .catch(() => ({ data: {}, readable: false }))
        .then((loaded) => {
          pins = loaded;
          if (!loaded.readable) showAlert(pageAlert, new VaultUnreadable().message);
        }),
    () => {},
  );

  // ---- names -------------------------------------------------------------------------------

  const names = new Map(); // "<participant id>:<ciphertext>" -> Promise of the name
  function nameOf(participantId, sealedName) {
    const key = `${participantId}:${sealedName}`;
    if (!names.has(key)) {
      names.set(
        key,
        caseReady.then((opened) => openParticipantName(opened, participantId, sealedName)),
      );
    }
    return names.get(key);
  }

  registerOpener("participant-name", async (element) => {
    try {
      element.textContent = await nameOf(element.dataset.participantId, element.dataset.sealedName);
    } catch (error) {
      if (error instanceof NameNotOpened) {
        const card = element.closest(".participant");
        for (const notice of card?.querySelectorAll("[data-name-failed]") || []) {
          notice.hidden = false;
        }
      }
      throw error;
    }
  });

  /** A card's participant as its sentences call them: their name, or "the person harmed". */
  async function callName(card, { start = false } = {}) {
    const holder = card.querySelector('[data-sealed="participant-name"]');
    try {
      return await nameOf(card.dataset.participantId, holder.dataset.sealedName);
    } catch {
      return start ? card.dataset.startName : card.dataset.callName;
    }
  }

  // ---- security numbers --------------------------------------------------------------------

  function participantOf(element) {
    const { accountId, participantId, publicKey, verifiedPublicKey } = element.dataset;
    return { accountId, participantId, publicKey, verifiedPublicKey };
  }

  registerOpener("security-number", async (element) => {
    const block = element.closest('[data-part="security"]');
    // Over both keys once the participant has a signing key (the same number their account shows).
    const { publicKey, signingPublicKey } = element.dataset;
    const digits = await securityNumber(publicKey, signingPublicKey || null);
    let status = "damaged";
    const qr = block.querySelector("[data-qr-box]");
    if (qr) qr.closest("details").hidden = digits === null;
    if (digits !== null) {
      element.textContent = digits;
      if (qr) showQr(qr, digits, { label: "This person's security number as a QR code" });
      await pinsReady;
      status = keyCheck(pins, participantOf(element));
    }
    element.hidden = digits === null;
    block.dataset.keyStatus = status;
    for (const notice of block.querySelectorAll("[data-key-notice]")) {
      notice.hidden = notice.dataset.keyNotice !== status;
    }
    const form = block.querySelector("[data-verify-form]");
    if (form) form.hidden = status === "verified" || status === "damaged";
  });

  registerSealer("mark-verified", async (form) => {
    const block = form.closest('[data-part="security"]');
    const participant = participantOf(block.querySelector("[data-public-key]"));
    // Pin first: the pin in my own vault is what later checks trust, not the server's record.
    pins = await pinComparedKey(await keysReady, participant);
    return { public_key: participant.publicKey };
  });

  // ---- adding a participant ----------------------------------------------------------------

  registerSealer("add-participant", async (form) => {
    const input = form.querySelector("#participant-name");
    const name = input.value.trim().replace(/\s+/g, " ");
    if (!name) throw new InputProblem([[input, "Enter a display name."]]);
    if (name.length > MAX_NAME) {
      throw new InputProblem([[input, `Use at most ${MAX_NAME} characters.`]]);
    }
    return sealParticipantName(await caseReady.catch(() => null), name);
  });

  // ---- supporters and representatives ------------------------------------------------------

  registerOpener("supporter-name", async (element) => {
    const opened = await caseReady;
    const { supporterId, sealedName } = element.dataset;
    element.textContent = await openSupporterName(opened, supporterId, sealedName);
  });

  registerSealer("add-supporter", async (form) => {
    const input = form.querySelector("[data-supporter-name]");
    const name = input.value.trim().replace(/\s+/g, " ");
    if (!name) throw new InputProblem([[input, "Enter a display name."]]);
    if (name.length > MAX_NAME) {
      throw new InputProblem([[input, `Use at most ${MAX_NAME} characters.`]]);
    }
    return sealSupporterName(await caseReady.catch(() => null), name);
  });

  // ---- a colleague joins the team ------------------------------------------------------------

  registerTeamSealers(() => caseReady);

  // ---- risk assessment, notes, agreement ---------------------------------------------------

  registerRecords(() => caseReady);

  // ---- the case key for participants who have joined ---------------------------------------

  const giveWaitingKeys = caseKeyGiver({
    caseReady: () => caseReady,
    pageAlert,
    statusRegion,
    callName,
  });
  giveWaitingKeys(root);
  root.addEventListener("htmx:load", (event) => {
    renewWithin(event.target);
    giveWaitingKeys(event.target);
  });

  // ---- access again, after a key change (or a supporter compared late) ---------------------

  let regranting = Promise.resolve();
  function giveAccessAgainNow() {
    regranting = regranting.then(async () => {
      let opened;
      try {
        [opened] = await Promise.all([caseReady, pinsReady]);
      } catch {
        return; // the page alert already says why (a case key refused, a vault unreadable)
      }
      try {
        const { given } = await giveAccessAgain(opened, pins);
        const count = given.filter((person) => person.count > person.forSide).length;
        const sides = given.filter((person) => person.forSide > 0).length;
        const people = (n) => (n === 1 ? "1 person" : `${n} people`);
        const said = [];
        if (count) {
          said.push(`Your browser gave ${people(count)} access again to what was passed on to them.`);
        }
        if (sides) {
          said.push(`Your browser let ${people(sides)} read what was written for them.`);
        }
        if (said.length) say(statusRegion, said.join(" "));
      } catch (error) {
        showAlert(pageAlert, `Access could not be given again yet: ${sentenceFor(error)}`);
      }
    });
  }
  giveAccessAgainNow();
  // A security number compared just now (the card comes back through htmx) may be owed access.
  root.addEventListener("htmx:load", (event) => {
    if (event.target instanceof Element && event.target.querySelector?.('[data-part="security"]')) {
      giveAccessAgainNow();
    }
  });

  // ---- copying an invitation ---------------------------------------------------------------

  root.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    const target = document.getElementById(button.dataset.copy);
    const what = button.dataset.copyWhat;
    const copied = await copyText(target.textContent.trim());
    say(
      statusRegion,
      copied
        ? `The ${what} is copied.`
        : `Your browser did not allow copying. Select the ${what} and copy it yourself.`,
    );
    if (!copied) window.getSelection().selectAllChildren(target);
  });

  window.addEventListener("pagehide", () => {
    for (const caseKey of held.retired) forgetCase({ caseKey });
    forgetCase(held);
  });
}

registerPage("case", mount);
