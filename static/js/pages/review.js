// Reviewing one message (templates/queue/review.html). The server rendered the facts and a form
// for each action allowed now; this page opens what is sealed and seals what is decided, through
// client/review.js:
//   - placeholders: the names, the message itself (every check first; a failure switches
//     approving off) and the feedback on the previous version;
//   - which notice about the keys applies: the writer's and the recipient's current keys against
//     the ones compared in person, which only this browser can know;
//   - grants a participant what was written on their behalf (and whatever else the case owes
//     someone whose key I compared), as the case page does;
//   - approve, approve once (the first of two in a high-risk case), return and withhold: a check before the confirm step (what is missing, the
//     question's sentence with the names opened), then a sealer that answers with ciphertext and
//     grants only (lib/sealed-forms.js).
// Decrypted text goes into the page as text only.

import {
  CaseKeyUnavailable,
  ContentFailedChecks,
  checkApprovable,
  checkRecipientKey,
  closeReview,
  keyStatuses,
  markUnverified,
  nameOf,
  openContent,
  openApprovalNote,
  openEnteredNoteOf,
  openFeedback,
  openReview,
  sealApproval,
  sealFeedback,
  sealFirstApproval,
  sealReason,
} from "../client/review.js";
import { giveAccessFromReview } from "../client/regrants.js";
import { NotGenuine } from "../client/trust.js";
import { sentenceFor } from "../lib/errors.js";
import { InputProblem, showAlert } from "../lib/forms.js";
import { registerPage } from "../lib/pages.js";
import { registerOpener } from "../lib/placeholders.js";
import { registerCheck, registerSealer } from "../lib/sealed-forms.js";
import { showOpenedMessage } from "../media/message-view.js";

function mount(root) {
  const find = (id) => document.getElementById(id);
  const pageAlert = find("review-alert");
  const loading = openReview(root.dataset.messageId, root.dataset.caseId);
  const page = { review: null, view: null };
  loading.then(
    (review) => {
      page.review = review;
    },
    (error) => {
      showAlert(pageAlert, sentenceFor(error));
      switchOffDecisions(error instanceof CaseKeyUnavailable);
    },
  );
  const statuses = loading.then(showKeyStatuses);
  statuses.catch(() => {}); // said once above, or by the approve check when it is needed
  // A letter written on a participant's behalf: they read it before it goes out, once a browser
  // that compared their key grants it (client/regrants.js). Quiet: the case page says more.
  loading.then(giveAccessFromReview).catch(() => {});

  // ---- what is sealed ---------------------------------------------------------------------

  registerOpener("participant-name", async (element) => {
    const { participantId, sealedName, openedSuffix = "" } = element.dataset;
    element.textContent = (await nameOf(await loading, participantId, sealedName)) + openedSuffix;
  });

  registerOpener("review-content", async (element) => {
    const status = find("letter-loading");
    let content;
    try {
      content = await openContent(await loading);
    } catch (error) {
      const failed = error instanceof ContentFailedChecks;
      status.textContent = failed ? status.dataset.notShown : status.dataset.cannotShow;
      if (failed) contentFailed();
      else if (page.review) showAlert(pageAlert, sentenceFor(error));
      throw error;
    }
    warnDeclared(element, content.declared);
    status.hidden = true;
    if (content.opened) {
      page.view = showOpenedMessage(find("letter-media"), content.opened, {
        headingLevel: 3,
        onCheckFailed: contentFailed,
      });
      find("letter-media").hidden = false;
      return;
    }
    const box = find("letter-text");
    box.textContent = content.text;
    box.hidden = false;
    const words = content.text.split(/\s+/).filter(Boolean).length;
    find("letter-length").textContent = `About ${words} word${words === 1 ? "" : "s"}.`;
    find("letter-length").hidden = false;
  });

  for (const [kind, open] of [
    ["review-feedback", openFeedback],
    ["review-approval-note", openApprovalNote],
    ["entered-note", openEnteredNoteOf],
  ]) {
    registerOpener(kind, async (element) => {
      try {
        const text = await open(await loading);
        if (text === null) throw new Error("no note for the case key");
        element.textContent = text;
      } catch (error) {
        // A refusal (not from trusted staff) says so; anything else is the page's own words.
        element.textContent =
          error instanceof NotGenuine ? error.message : element.dataset.failedText;
        throw error;
      }
    });
  }

  function contentFailed() {
    if (page.review) markUnverified(page.review);
    const region = find("verify-failed");
    region.className = "verify-failed notice error";
    region.textContent = region.dataset.text;
    const once = find("decision-approve-once");
    if (once) {
      once.disabled = true;
      once.checked = false;
      find("approve-once-form").hidden = true;
    }
    const approve = find("decision-approve");
    if (!approve || approve.disabled) return;
    approve.disabled = true;
    approve.checked = false;
    find("approve-form").hidden = true;
    root.querySelector("[data-approve-off]").hidden = false;
  }

  function switchOffDecisions(becauseOfCaseKey) {
    for (const radio of root.querySelectorAll('input[name="decision"]')) radio.disabled = true;
    for (const form of root.querySelectorAll("form[data-decision]")) form.hidden = true;
    const why = find("decisions-off");
    if (why && becauseOfCaseKey) why.hidden = false;
  }

  // ---- what only this browser knows about the keys -------------------------------------------

  async function showKeyStatuses(review) {
    const found = await keyStatuses(review);
    showWhenKey(find("author-key"), found.author);
    const form = find("approve-form");
    if (form) {
      showWhenKey(form, found.recipient);
      const shown = form.querySelector(`#recipient-key-${found.recipient}`);
      const describedBy = [shown?.id, "key-understood-error"].filter(Boolean).join(" ");
      find("key-understood")?.setAttribute("aria-describedby", describedBy); // none on paper
    }
    return found;
  }

  function showWhenKey(container, status) {
    for (const element of container.querySelectorAll("[data-when-key]")) {
      element.hidden = !element.dataset.whenKey.split(" ").includes(status);
    }
  }

  // ---- deciding -------------------------------------------------------------------------------

  root.addEventListener("change", (event) => {
    if (event.target.name === "decision") showChosenForm(event.target.value);
  });
  const chosen = root.querySelector('input[name="decision"]:checked');
  if (chosen) showChosenForm(chosen.value);

  function showChosenForm(decision) {
    for (const form of root.querySelectorAll("form[data-decision]")) {
      form.hidden = form.dataset.decision !== decision;
    }
  }

  registerCheck("approve", async (form) => {
    checkApprovable(await loading);
    // A changed key is never released to, whatever is ticked: compare it again first.
    checkRecipientKey((await statuses).recipient);
    const understood = find("key-understood");
    if (understood && (await statuses).recipient !== "verified" && !understood.checked) {
      throw new InputProblem([[understood, understood.dataset.missing]]);
    }
    const label = form.querySelector('input[name="transcript_label"]:checked')?.value;
    const note = filled(find("approve-note"));
    const transcript = filled(find("approve-transcript"));
    return question(form, (part) => part === "always" || (part === "note" && note) ||
      (transcript && part === (label || "transcript")));
  });
  registerSealer("approve", async () =>
    sealApproval(await loading, {
      note: find("approve-note")?.value || "",
      transcript: find("approve-transcript")?.value || "",
      keyRiskAccepted: Boolean(find("key-understood")?.checked),
    }),
  );

  registerCheck("approve-once", async (form) => {
    await loading;
    return question(form, (part) => part === "always");
  });
  registerSealer("approve-once", async () =>
    sealFirstApproval(await loading, { note: find("approve-once-note").value }),
  );

  for (const [decision, inputId, seal] of [
    ["return", "return-feedback", sealFeedback],
    ["withhold", "withhold-reason", sealReason],
  ]) {
    registerCheck(decision, async (form) => {
      await loading;
      const input = find(inputId);
      if (!filled(input)) throw new InputProblem([[input, input.dataset.missing]]);
      return question(form, (part) => part === "always");
    });
    registerSealer(decision, async () => seal(await loading, find(inputId).value));
  }

  window.addEventListener("pagehide", () => {
    page.view?.destroy(); // stops playing, revokes object URLs, wipes K
    if (page.review) closeReview(page.review);
  });
}

/** The confirm step's sentence: the form's [data-question-part]s that apply, names opened. */
function question(form, applies) {
  const parts = Array.from(form.querySelectorAll("[data-question-part]"));
  const text = parts
    .filter((part) => applies(part.dataset.questionPart))
    .map((part) => part.textContent.trim())
    .join(" ");
  return { text };
}

function filled(input) {
  return Boolean(input && input.value.trim());
}

/** Say where the format or length the writer gave differs from what the message holds. */
function warnDeclared(container, declared) {
  const nouns = JSON.parse(container.dataset.formatNouns || "{}");
  const sentences = [];
  const { format, seconds, pages } = declared;
  if (format) {
    const only = format.actual === "letter" ? " only" : "";
    sentences.push(
      `The writer said this is ${nouns[format.declared] || format.declared}, but it is ${nouns[format.actual]}${only}.`,
    );
  }
  if (seconds) {
    sentences.push(
      `The length given is ${duration(seconds.declared)}, but the recordings last ${duration(seconds.measured)}.`,
    );
  }
  if (pages) {
    const are = pages.measured === 1 ? "is" : "are";
    const pdf = pages.pdfs ? " and a PDF" : "";
    sentences.push(
      `The writer gave ${count(pages.declared, "page")}, but there ${are} ${count(pages.measured, "scanned page")}${pdf}.`,
    );
  }
  if (sentences.length === 0) return;
  const warning = document.getElementById("media-mismatch");
  warning.textContent = `Please check: ${sentences.join(" ")} The recipient is told the format and length the writer gave before they choose whether to open it.`;
  warning.hidden = false;
}

function duration(seconds) {
  return seconds < 90 ? `${seconds} seconds` : `about ${Math.round(seconds / 60)} minutes`;
}

function count(number, noun) {
  return `${number} ${noun}${number === 1 ? "" : "s"}`;
}

registerPage("review", mount);
