// The service manager's Referrals page (templates/referrals/manage.html): setting up the
// service's referral key (data-seal="referral-key": the key pair is made, signed and granted to
// me in this browser) and giving a colleague the key (data-seal="referral-access": it is boxed
// to the box key the trust log holds for them). client/referrals.js does the protocol.

import { grantReferralKey, makeReferralKey } from "../client/referrals.js";
import { loadSecretKey } from "../client/session.js";
import { registerPage } from "../lib/pages.js";
import { registerSealer } from "../lib/sealed-forms.js";

function mount() {
  registerSealer("referral-key", async () => makeReferralKey(await loadSecretKey()));
  registerSealer("referral-access", async (form) => {
    const accountId = form.querySelector("[name=account_id]").value;
    const { grant } = await grantReferralKey(await loadSecretKey(), accountId);
    return { grant };
  });
}

registerPage("referrals", mount);
