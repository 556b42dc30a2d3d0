// One case, for its facilitators (templates/cases/show.html).
//
// On load: my keys (keys.js), the case secret key (GET /api/cases/{id}/key, openCaseGrant),
// my vault of pinned keys (vault.js) and the participants (GET /api/cases/{id}/participants).
// Participants' display names are sealed to the case key with the purpose
// "participant-name:<participant id>" and are opened here; they go into the page as text only.
//
// What the page does:
//   - status: pause, resume, close (close asks first) -> POST /api/cases/{id}/status
//   - add a participant: the browser makes the participant id (so the name can be sealed to it
//     before anything is sent) -> POST /api/cases/{id}/participants {participant_id, side,
//     sealed_name}
//   - invite: POST .../participants/{pid}/invitation; the code and link are shown once (kept
//     only in this page's memory)
//   - consent: POST .../participants/{pid}/consent {formats}
//   - case key for participants: every joined participant without one quietly gets the case
//     public key, boxed from me to their key (makeCasePublicGrant) -> POST .../case-key
//   - security numbers: computed here from the participant's public key (never the server's
//     digits). "We compared this number in person" pins the key in my vault, then
//     POST .../verified {public_key}. A current key that differs from the pinned one, or from
//     the one the server says was verified, is shown as a loud warning.

import { openCaseKey } from "./client/cases.js";
import { loadSecretKey } from "./client/session.js";
import { keyStatus, loadVault, pinFor, pinKey, VaultUnreadable } from "./client/vault.js";
import { forget, protocol } from "./crypto/keys.js";
import { formatDate } from "./lib/dates.js";
import { copyText, el, focusOn, hiddenText, say } from "./lib/dom.js";
import { sentenceFor } from "./lib/errors.js";
import { clearErrors, isBusy, setBusy, showAlert, showFieldError } from "./lib/forms.js";
import { getJSON, postJSON } from "./lib/http.js";
import { newId } from "./lib/ids.js";

const root = document.getElementById("case");
const caseId = root.dataset.caseId;
const statusMessage = document.getElementById("case-status-message");
const pageAlert = document.getElementById("case-alert");

const statusText = document.getElementById("case-status-text");
const pauseButton = document.getElementById("pause-case");
const resumeButton = document.getElementById("resume-case");
const closeButton = document.getElementById("close-case");
const closeConfirm = document.getElementById("close-confirm");
const closeConfirmHeading = document.getElementById("close-confirm-heading");
const closeConfirmButton = document.getElementById("close-case-confirm");
const closeCancelButton = document.getElementById("close-case-cancel");

const loading = document.getElementById("participants-loading");
const empty = document.getElementById("participants-empty");
const list = document.getElementById("participants-list");

const addSection = document.getElementById("add-participant-section");
const addForm = document.getElementById("add-participant-form");
const sideFieldset = document.getElementById("participant-side");
const sideError = document.getElementById("participant-side-error");
const nameInput = document.getElementById("participant-name");
const addButton = document.getElementById("add-participant-button");
const addAlert = document.getElementById("add-participant-alert");

const FORMATS = [
  ["letter", "Letter"],
  ["audio", "Audio recording"],
  ["video", "Video recording"],
];
const FORMAT_LABELS = Object.fromEntries(FORMATS);
const MAX_NAME = 100;

const state = {
  p: null, // protocol.js, once loaded
  status: root.dataset.caseStatus,
  keys: null, // {accountId, secretKey, publicKey}
  caseKey: null, // {caseSk, casePk}
  vault: { data: {}, readable: true },
  participants: [],
  names: new Map(), // `${pid}:${sealed_name}` -> name, or null if it did not open
  invitations: new Map(), // pid -> {code, join_link, expires_at}: shown once, kept in memory only
};

// ---- loading --------------------------------------------------------------------------------

async function start() {
  try {
    state.p = await protocol();
    state.keys = await loadSecretKey();
    state.caseKey = await openCaseKey(state.keys, caseId);
  } catch (error) {
    loading.textContent = "The participants cannot be shown.";
    showAlert(pageAlert, sentenceFor(error));
    addSection.hidden = true;
    return;
  }
  try {
    state.vault = await loadVault(state.keys);
  } catch {
    state.vault = { data: {}, readable: false };
  }
  if (!state.vault.readable) {
    showAlert(pageAlert, new VaultUnreadable().message);
  }
  try {
    await refresh();
  } catch (error) {
    loading.textContent = "The participants cannot be shown.";
    showAlert(pageAlert, sentenceFor(error));
    return;
  }
  loading.hidden = true;
  render();
  await giveCaseKeys();
}

async function refresh() {
  const p = await protocol();
  const participants = await getJSON(`/api/cases/${encodeURIComponent(caseId)}/participants`);
  for (const participant of participants) {
    const cacheKey = `${participant.participant_id}:${participant.sealed_name}`;
    if (state.names.has(cacheKey)) continue;
    let name = null;
    try {
      name = p.openCaseText(
        state.caseKey.caseSk,
        caseId,
        `participant-name:${participant.participant_id}`,
        p.b64decode(participant.sealed_name),
      );
    } catch (error) {
      if (!(error instanceof p.ProtocolError)) throw error;
      name = null; // shown as "name could not be unlocked"
    }
    state.names.set(cacheKey, name);
  }
  state.participants = participants;
}

function nameOf(participant) {
  return state.names.get(`${participant.participant_id}:${participant.sealed_name}`) ?? null;
}

/** The name to use in sentences and hidden button text. */
function callName(participant) {
  return nameOf(participant) ?? `the ${participant.side_label.toLowerCase()}`;
}

/** The same at the start of a sentence (a name is never changed, only "the ..." is). */
function startName(participant) {
  return nameOf(participant) ?? `The ${participant.side_label.toLowerCase()}`;
}

// ---- the case key for participants who have joined ------------------------------------------

async function giveCaseKeys() {
  if (state.status === "closed") return;
  const waiting = state.participants.filter(
    (pt) => pt.joined && pt.account_public_key && !pt.has_case_public_grant && !pt.withdrawn_at,
  );
  if (!waiting.length) return;
  const p = await protocol();
  const given = [];
  for (const participant of waiting) {
    try {
      const grant = p.makeCasePublicGrant(
        state.keys.secretKey,
        p.b64decode(participant.account_public_key),
        caseId,
        state.caseKey.casePk,
      );
      await postJSON(
        `/api/cases/${encodeURIComponent(caseId)}/participants/${encodeURIComponent(participant.participant_id)}/case-key`,
        { grant: p.b64encode(grant) },
      );
      participant.has_case_public_grant = true;
      given.push(callName(participant));
    } catch (error) {
      showAlert(
        pageAlert,
        `${startName(participant)} has joined, but could not be given this case's key yet: ${sentenceFor(error)} Reload the page to try again.`,
      );
    }
  }
  if (given.length) {
    say(
      statusMessage,
      `Your browser gave ${joinNames(given)} this case's key, so ${given.length === 1 ? "they" : "they each"} can now write.`,
    );
  }
}

// ---- rendering ------------------------------------------------------------------------------

function render() {
  list.replaceChildren(...state.participants.map((participant) => card(state.p, participant)));
  empty.hidden = state.participants.length > 0;
  addSection.hidden = state.status === "closed";
}

function card(p, participant) {
  const pid = participant.participant_id;
  const name = nameOf(participant);
  const call = callName(participant);
  const headingId = `participant-${pid}-heading`;
  const section = el("section", {
    class: "participant",
    id: `participant-${pid}`,
    "aria-labelledby": headingId,
    "data-participant-id": pid,
  });
  section.append(
    el(
      "h3",
      { id: headingId, tabindex: "-1" },
      name ?? `${participant.side_label} (name could not be unlocked)`,
    ),
    el("p", { class: "participant-side" }, participant.side_label),
  );
  if (name === null) {
    section.append(
      el(
        "p",
        { class: "notice warning" },
        "This person's name could not be unlocked with the case's key. It may have been damaged. Everything else still works.",
      ),
    );
  }
  if (participant.withdrawn_at) {
    section.append(
      el(
        "p",
        { class: "notice warning" },
        `Withdrew from the process on ${formatDate(participant.withdrawn_at)}. Nothing more will be passed to or from them.`,
      ),
    );
  }

  const joined = participant.joined
    ? "Yes"
    : participant.invitation_pending
      ? "Not yet: an invitation is waiting"
      : "Not yet invited";
  const consent = participant.consent_recorded_at
    ? `${participant.formats.map((f) => FORMAT_LABELS[f] || f).join(", ")} (recorded ${formatDate(participant.consent_recorded_at)})`
    : "Not recorded";
  section.append(
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Joined"),
      el("dd", { "data-fact": "joined" }, joined),
      el("dt", {}, "Consent"),
      el("dd", { "data-fact": "consent" }, consent),
    ),
  );

  const active = state.status !== "closed" && !participant.withdrawn_at;
  if (!participant.joined && active) section.append(invitationBlock(participant, call));
  if (active) section.append(consentForm(participant, call));
  if (participant.joined && participant.account_public_key) {
    section.append(securityBlock(p, participant, call, active));
  }
  return section;
}

function invitationBlock(participant, call) {
  const pid = participant.participant_id;
  const block = el("div", { class: "participant-part", "data-part": "invitation" });
  block.append(el("h4", { id: `invite-${pid}-heading`, tabindex: "-1" }, "Invitation"));
  const shown = state.invitations.get(pid);
  if (shown) {
    block.append(
      el(
        "div",
        { class: "notice success invitation", id: `invite-${pid}` },
        el(
          "p",
          {},
          `Give this code to ${call} in person or by a trusted channel. It works once and expires on ${formatDate(shown.expires_at)}. It will not be shown again.`,
        ),
        el(
          "p",
          { class: "code", id: `invite-${pid}-code`, "data-invitation-code": "" },
          shown.code,
        ),
        el(
          "div",
          { class: "actions" },
          el(
            "button",
            {
              type: "button",
              class: "button secondary",
              "data-action": "copy-code",
              "data-participant-id": pid,
            },
            "Copy the code",
          ),
        ),
        el("p", {}, "Or send them this link, which fills in the code for them:"),
        el(
          "p",
          { class: "join-link", id: `invite-${pid}-link`, "data-join-link": "" },
          shown.join_link,
        ),
        el(
          "div",
          { class: "actions" },
          el(
            "button",
            {
              type: "button",
              class: "button secondary",
              "data-action": "copy-link",
              "data-participant-id": pid,
            },
            "Copy the link",
          ),
        ),
      ),
    );
  } else if (participant.invitation_pending) {
    block.append(
      el(
        "p",
        { class: "hint" },
        "An invitation is waiting for them. If they have lost the code, create a new invitation: the old code then stops working.",
      ),
    );
  } else {
    block.append(
      el("p", { class: "hint" }, `Create an invitation so that ${call} can join the portal.`),
    );
  }
  block.append(
    el(
      "div",
      { class: "actions" },
      el(
        "button",
        {
          type: "button",
          class: shown ? "button secondary" : "button",
          "data-action": "invite",
          "data-participant-id": pid,
        },
        participant.invitation_pending || shown
          ? "Create a new invitation"
          : "Create an invitation",
        hiddenText(` for ${call}`),
      ),
    ),
  );
  return block;
}

function consentForm(participant, call) {
  const pid = participant.participant_id;
  const form = el("form", {
    class: "participant-part consent-form",
    "data-action": "consent",
    "data-participant-id": pid,
    novalidate: true,
  });
  const hintId = `consent-${pid}-hint`;
  const fieldset = el(
    "fieldset",
    { "aria-describedby": hintId },
    el("legend", {}, `Formats ${call} agrees to`),
    el(
      "p",
      { class: "hint", id: hintId },
      "Tick what they agreed to at the preparation meeting. Untick everything if they have not agreed, or no longer agree: nothing can then be passed to or from them.",
    ),
  );
  for (const [value, label] of FORMATS) {
    const id = `consent-${pid}-${value}`;
    fieldset.append(
      el(
        "div",
        { class: "choice" },
        el("input", {
          type: "checkbox",
          id,
          value,
          checked: participant.consent_recorded_at ? participant.formats.includes(value) : false,
        }),
        el("label", { for: id }, label),
      ),
    );
  }
  form.append(
    el("h4", {}, "Consent"),
    fieldset,
    el(
      "div",
      { class: "actions" },
      el(
        "button",
        { type: "submit", class: "button secondary", id: `consent-${pid}-button` },
        "Record consent",
        hiddenText(` for ${call}`),
      ),
    ),
  );
  return form;
}

function securityBlock(p, participant, call, active) {
  const pid = participant.participant_id;
  const current = participant.account_public_key;
  const pinned = pinFor(state.vault.data, participant.account_id, `participant:${pid}`);
  const status = keyStatus(pinned, current, participant.verified_public_key);
  const block = el("div", {
    class: "participant-part",
    "data-part": "security",
    "data-key-status": status,
  });
  block.append(el("h4", { id: `security-${pid}-heading`, tabindex: "-1" }, "Security number"));

  let digits = null;
  try {
    digits = p.formatFingerprint(p.fingerprintDigits(p.b64decode(current)));
  } catch {
    digits = null;
  }
  if (digits === null) {
    block.append(
      el(
        "p",
        { class: "notice error" },
        "This person's key is damaged, so no security number can be shown.",
      ),
    );
    return block;
  }
  block.append(
    el("p", { class: "fingerprint", id: `fingerprint-${pid}`, "data-fingerprint": "" }, digits),
  );

  const when =
    participant.key_verified_at && participant.verified_public_key === current
      ? formatDate(participant.key_verified_at)
      : "";
  const notices = {
    verified: ["notice success", when ? `Verified in person on ${when}.` : "Verified in person."],
    colleague: [
      "notice warning",
      `Marked as compared in person${when ? ` on ${when}` : ""}, but not from your account. Until you compare it with ${call} yourself, you will be asked to confirm before you approve anything for them.`,
    ],
    changed: [
      "notice error",
      `Warning: this security number has changed since it was compared in person. ${startName(participant)} may have a new account key, or someone may be trying to read letters meant for them. Do not approve anything for them until you have compared the new number with them in person.`,
    ],
    unverified: [
      "notice warning",
      `Not compared in person yet. At your next meeting, read this number together with ${call}: they can find theirs on their “Your account” page.`,
    ],
  };
  const [className, sentence] = notices[status];
  block.append(el("p", { class: className, id: `security-${pid}-status` }, sentence));

  if (status !== "verified" && active) {
    block.append(
      el(
        "p",
        { class: "hint" },
        "Only press this button if every digit matched when you read the number together, in person.",
      ),
      el(
        "div",
        { class: "actions" },
        el(
          "button",
          {
            type: "button",
            class: "button",
            "data-action": "verify",
            "data-participant-id": pid,
            "data-public-key": current,
          },
          "We compared this number in person",
          hiddenText(`: ${call}`),
        ),
      ),
    );
  }
  return block;
}

// ---- participant actions ----------------------------------------------------------------------

function participantById(pid) {
  return state.participants.find((pt) => pt.participant_id === pid) || null;
}

function participantUrl(pid, what) {
  return `/api/cases/${encodeURIComponent(caseId)}/participants/${encodeURIComponent(pid)}/${what}`;
}

/** Re-read the participants, draw them again, and put focus on `focusId` (if it exists). */
async function redraw(focusId) {
  await refresh();
  render();
  if (focusId) focusOn(document.getElementById(focusId));
}

list.addEventListener("click", async (event) => {
  const button =
    event.target instanceof Element ? event.target.closest("button[data-action]") : null;
  if (!button || isBusy(button)) return;
  const pid = button.dataset.participantId;
  const participant = participantById(pid);
  if (!participant) return;
  const action = button.dataset.action;
  if (action === "invite") await invite(button, participant);
  else if (action === "copy-code") await copy(button, state.invitations.get(pid)?.code, "code");
  else if (action === "copy-link")
    await copy(button, state.invitations.get(pid)?.join_link, "link");
  else if (action === "verify") await verify(button, participant);
});

list.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.action !== "consent") return;
  event.preventDefault();
  const participant = participantById(form.dataset.participantId);
  if (participant) await recordConsent(form, participant);
});

async function invite(button, participant) {
  const pid = participant.participant_id;
  const restore = setBusy(button, "Creating…");
  try {
    const answer = await postJSON(participantUrl(pid, "invitation"), {});
    state.invitations.set(pid, {
      code: answer.code,
      join_link: answer.join_link,
      expires_at: answer.expires_at,
    });
    await redraw(`invite-${pid}-heading`);
    say(
      statusMessage,
      `Invitation created for ${callName(participant)}. The code is shown once, under “Invitation”.`,
    );
  } catch (error) {
    restore();
    showAlert(pageAlert, sentenceFor(error));
  }
}

async function copy(button, text, what) {
  if (!text) return;
  const copied = await copyText(text);
  say(
    statusMessage,
    copied
      ? `The ${what} is copied.`
      : `Your browser did not allow copying. Select the ${what} and copy it yourself.`,
  );
  if (!copied) {
    const target = button
      .closest(".invitation")
      ?.querySelector(what === "code" ? "[data-invitation-code]" : "[data-join-link]");
    if (target) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }
}

async function recordConsent(form, participant) {
  const button = form.querySelector('button[type="submit"]');
  if (isBusy(button)) return;
  const formats = FORMATS.map(([value]) => value).filter(
    (value) => form.querySelector(`input[value="${value}"]`)?.checked,
  );
  const restore = setBusy(button, "Recording…");
  try {
    await postJSON(participantUrl(participant.participant_id, "consent"), { formats });
    await redraw(`consent-${participant.participant_id}-button`);
    const call = callName(participant);
    say(
      statusMessage,
      formats.length
        ? `Consent recorded for ${call}: ${formats.map((f) => FORMAT_LABELS[f]).join(", ")}.`
        : `Recorded that ${call} has not agreed to any format. Nothing can be passed to or from them.`,
    );
  } catch (error) {
    restore();
    showAlert(pageAlert, sentenceFor(error));
  }
}

async function verify(button, participant) {
  const pid = participant.participant_id;
  const publicKey = button.dataset.publicKey;
  const restore = setBusy(button, "Recording…");
  try {
    // Pin first: the pin in my own vault is what later checks trust, not the server's record.
    const pinId = participant.account_id || `participant:${pid}`;
    state.vault = { data: await pinKey(state.keys, pinId, publicKey), readable: true };
    await postJSON(participantUrl(pid, "verified"), { public_key: publicKey });
    await redraw(`security-${pid}-heading`);
    say(
      statusMessage,
      `${startName(participant)}'s security number is recorded as compared in person.`,
    );
  } catch (error) {
    restore();
    showAlert(pageAlert, error instanceof VaultUnreadable ? error.message : sentenceFor(error));
  }
}

// ---- adding a participant -----------------------------------------------------------------------

addForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (isBusy(addButton)) return;
  clearErrors(addForm);
  sideError.textContent = "";
  for (const radio of sideFieldset.querySelectorAll("input")) radio.removeAttribute("aria-invalid");

  const side = sideFieldset.querySelector("input:checked")?.value || "";
  const name = nameInput.value.trim().replace(/\s+/g, " ");
  let first = null;
  if (!side) {
    sideError.textContent = "Choose the side this person is on.";
    for (const radio of sideFieldset.querySelectorAll("input"))
      radio.setAttribute("aria-invalid", "true");
    first = sideFieldset.querySelector("input");
  }
  if (!name) {
    showFieldError(nameInput, "Enter a display name.", { focus: false });
    first = first || nameInput;
  } else if (name.length > MAX_NAME) {
    showFieldError(nameInput, `Use at most ${MAX_NAME} characters.`, { focus: false });
    first = first || nameInput;
  }
  if (first) {
    first.focus();
    return;
  }
  if (!state.caseKey) {
    showAlert(
      addAlert,
      "The case's key is not unlocked, so a name cannot be added. Reload the page to try again.",
    );
    return;
  }

  const restore = setBusy(addButton, "Adding…");
  try {
    const p = await protocol();
    // The name is sealed to the participant's id, so the id is made here, before the request.
    const pid = newId();
    const sealed = p.sealCaseText(state.caseKey.caseSk, caseId, `participant-name:${pid}`, name);
    const answer = await postJSON(`/api/cases/${encodeURIComponent(caseId)}/participants`, {
      participant_id: pid,
      side,
      sealed_name: p.b64encode(sealed),
    });
    restore();
    addForm.reset();
    const added = answer.participant_id || pid;
    await redraw(`participant-${added}-heading`);
    const participant = participantById(added);
    const sideWords = side === "person_harmed" ? "the person harmed" : "the person responsible";
    say(
      statusMessage,
      `${participant ? startName(participant) : "The participant"} was added as ${sideWords}. Next, create an invitation so they can join.`,
    );
  } catch (error) {
    restore();
    if (error && error.field === "sealed_name") {
      showFieldError(nameInput, sentenceFor(error));
    } else if (error && error.field === "side") {
      sideError.textContent = sentenceFor(error);
      sideFieldset.querySelector("input")?.focus();
    } else {
      showAlert(addAlert, sentenceFor(error));
    }
  }
});

// ---- status -------------------------------------------------------------------------------------

const STATUS_WORDS = { open: "open", paused: "paused", closed: "closed" };

function showStatus() {
  statusText.textContent = STATUS_WORDS[state.status] || state.status;
  root.dataset.caseStatus = state.status;
  for (const hint of document.querySelectorAll("#status-section [data-for]")) {
    hint.hidden = hint.dataset.for !== state.status;
  }
  pauseButton.hidden = state.status !== "open";
  resumeButton.hidden = state.status !== "paused";
  closeButton.hidden = state.status === "closed";
}

async function setStatus(button, value, busyText) {
  if (isBusy(button)) return;
  const restore = setBusy(button, busyText);
  try {
    const answer = await postJSON(`/api/cases/${encodeURIComponent(caseId)}/status`, {
      status: value,
    });
    restore();
    state.status = answer.status || value;
    closeConfirm.hidden = true;
    closeButton.setAttribute("aria-expanded", "false");
    showStatus();
    if (state.keys && state.caseKey && state.participants.length) render();
    const messages = {
      paused:
        "The case is paused. Nothing will be written, reviewed or passed on until you resume it.",
      open: "The case is open again.",
      closed: "The case is closed.",
    };
    say(statusMessage, messages[state.status] || "");
    const next = { paused: resumeButton, open: pauseButton }[state.status];
    focusOn(next && !next.hidden ? next : document.getElementById("status-heading"));
    if (state.status === "open" && state.keys && state.caseKey) await giveCaseKeys();
  } catch (error) {
    restore();
    showAlert(pageAlert, sentenceFor(error));
  }
}

pauseButton.addEventListener("click", () => setStatus(pauseButton, "paused", "Pausing…"));
resumeButton.addEventListener("click", () => setStatus(resumeButton, "open", "Resuming…"));
closeButton.addEventListener("click", () => {
  closeConfirm.hidden = false;
  closeButton.setAttribute("aria-expanded", "true");
  focusOn(closeConfirmHeading);
});
closeCancelButton.addEventListener("click", () => {
  closeConfirm.hidden = true;
  closeButton.setAttribute("aria-expanded", "false");
  closeButton.focus();
});
closeConfirmButton.addEventListener("click", () =>
  setStatus(closeConfirmButton, "closed", "Closing…"),
);

// ---- small words --------------------------------------------------------------------------------

function joinNames(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

window.addEventListener("pagehide", () => {
  if (state.caseKey) forget(state.caseKey.caseSk);
  if (state.keys) forget(state.keys.secretKey);
});

start();
