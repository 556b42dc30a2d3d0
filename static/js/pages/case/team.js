// The case page's team part (templates/cases/_team.html), for static/js/pages/case.js:
//   - after a facilitator left, the section carries data-needs-new-epoch: this browser makes
//     the case's next key epoch (client/case-epochs.js) before anything else is done with the
//     case key, then opens the case again with the new key;
//   - a case a service manager reassigned to me: its next epoch made from nothing first;
//   - adding a colleague and handing the case over (sealers "add-facilitator", "hand-over"):
//     their certificate is checked in the trust log and the case key granted to the key it
//     vouches for (client/case-team.js).

import { startNextEpoch } from "../../client/case-epochs.js";
import { grantToColleague } from "../../client/case-team.js";
import { openCase } from "../../client/cases.js";
import { say } from "../../lib/dom.js";
import { sentenceFor } from "../../lib/errors.js";
import { showAlert } from "../../lib/forms.js";
import { registerSealer } from "../../lib/sealed-forms.js";

/** The notice that asks for the next epoch within `within`, if any. */
function epochNotice(within) {
  if (!(within instanceof Element)) return null;
  return within.matches("[data-needs-new-epoch]")
    ? within
    : within.querySelector("[data-needs-new-epoch]");
}

/**
 * `opened` again, or, when `within` asks for the next epoch, the case opened with the epoch
 * this browser just made (the page forgets the old key when it is left). A failure is said on the page and
 * the old key stays: nothing is sealed with it (the server refuses until the epoch exists).
 */
export async function renewIfAsked(within, opened, { statusRegion, pageAlert }) {
  const notice = epochNotice(within);
  if (!notice || notice.dataset.renewing) return opened;
  notice.dataset.renewing = "yes";
  const team = teamIds();
  try {
    const { participants } = await startNextEpoch(opened, {
      epoch: Number(notice.dataset.nextEpoch),
      teamIds: team,
    });
    const renewed = await openCase(opened.keys, opened.caseId);
    notice.hidden = true;
    notice.removeAttribute("data-needs-new-epoch");
    say(
      statusRegion,
      `Your browser made this case's new key and gave it to ${
        participants === 1 ? "the person" : participants ? `the ${participants} people` : "nobody yet"
      } taking part${team.length > 1 ? " and to your colleagues" : ""}. Everything from now on is sealed with it.`,
    );
    return renewed;
  } catch (error) {
    delete notice.dataset.renewing;
    showAlert(
      pageAlert,
      `Your browser could not make this case's new key: ${sentenceFor(error)} Reload the page to try again.`,
    );
    return opened;
  }
}

function teamIds() {
  return [...document.querySelectorAll("#team-list [data-account-id]")].map(
    (item) => item.dataset.accountId,
  );
}

/**
 * The case opened for this page. A case reassigned to me that nobody could give me the key of
 * (data-without-key) first gets its next epoch from this browser, made from nothing: what was
 * sealed before stays locked, as the page says.
 */
export async function openStartingAfresh(root, keys, caseId, { statusRegion }) {
  const notice = root.querySelector("[data-needs-new-epoch][data-without-key]");
  if (notice) {
    notice.dataset.renewing = "yes";
    await startNextEpoch(
      { caseId, keys, caseKey: null },
      { epoch: Number(notice.dataset.nextEpoch), teamIds: teamIds() },
    );
    notice.removeAttribute("data-needs-new-epoch");
    say(statusRegion, "Your browser made this case's new key. Everything from now on is sealed with it.");
  }
  return openCase(keys, caseId);
}

/** The sealers of the team's forms; `caseReady()` is the page's current opened case. */
export function registerTeamSealers(caseReady) {
  const grantFromForm = async (form) => {
    const chosen = form.querySelector('select[name="account_id"]');
    return grantToColleague(await caseReady(), chosen.value);
  };
  registerSealer("add-facilitator", grantFromForm);
  registerSealer("hand-over", grantFromForm);
}
