// Invitations made in the inviter's browser (docs/api-trust.md): the server reserves one
// (POST /api/invitations/prepare), this browser makes the code, derives {lookupId, redeemProof,
// macKey}, MACs exactly the contract's fields, and seals {lookup_id, redeem_proof_hash, mac}
// (POST /api/invitations/{id}/seal). The code itself never leaves the browser: it is shown once.
//
// The root named in the reservation goes into the MAC the joiner checks, so it must be the root
// this browser pinned; another is refused (trust-log-not-genuine) before anything is sealed.

import { loadSecretKey } from "./session.js";
import { refuse } from "./security-events.js";
import { TrustNotSetUp } from "./trust.js";
import { VaultUnreadable, loadVault, trustPins } from "./vault.js";
import { protocol } from "../crypto/keys.js";
import { postJSON } from "../lib/http.js";

/** The address that joins with `codeText` (the code in the fragment, never sent to a server). */
export function joinLink(codeText, origin = globalThis.location?.origin ?? "") {
  return `${origin}/join#code=${codeText}`;
}

/**
 * Make an invitation for `role` (a participant's with their caseId and participantId; a
 * supporter's also with the supporterId of their place, the participantId being whose side;
 * with `rekey`, a code for a new key for that participant or supporter, who has joined):
 * {invitationId, codeText, expiresAt, link}. Refusals: the server's (ApiError), TrustNotSetUp,
 * VaultUnreadable, NotGenuine for a reservation naming another root.
 */
export async function makeInvitation(
  { role, caseId = null, participantId = null, supporterId = null, rekey = false },
  deps = {},
) {
  const keys = await (deps.loadKeys ?? loadSecretKey)();
  const p = await protocol();
  const { data, readable } = await loadVault(keys);
  if (!readable) throw new VaultUnreadable();
  const pinned = trustPins(data).root;
  if (!pinned) throw new TrustNotSetUp();
  const body = supporterId
    ? { role, supporter_id: supporterId }
    : participantId
      ? { role, participant_id: participantId }
      : { role };
  // A code for a new key names the person's account, which exists: its MAC is an invitation's.
  if (rekey) body.rekey = true;
  const prepared = await postJSON("/api/invitations/prepare", body);
  const root = prepared.root;
  if (
    !root ||
    root.account_id !== pinned.account_id ||
    root.signing_public_key !== pinned.signing_public_key
  ) {
    throw refuse("trust-log-not-genuine", { audience: "staff" });
  }
  const [code, codeText] = p.generateInvitationCode();
  const found = p.invitationSecrets(code);
  try {
    const fields = {
      invitation_id: prepared.invitation_id,
      account_id: prepared.account_id,
      role,
      case_id: participantId ? caseId : null,
      participant_id: participantId ?? null,
      inviter_account_id: keys.accountId,
      inviter_box_public_key: p.b64encode(p.publicKeyFromSecret(keys.secretKey)),
      inviter_signing_public_key: p.b64encode(p.signingPublicKeyFromSecret(keys.secretKey)),
      root_account_id: root.account_id,
      root_signing_public_key: root.signing_public_key,
      expires_at: prepared.expires_at,
      // A code for a new key says so under its MAC: it cannot be passed off as a join code.
      ...(rekey ? { purpose: "rekey" } : {}),
    };
    const mac = p.invitationMac(found.macKey, fields);
    await postJSON(`/api/invitations/${encodeURIComponent(prepared.invitation_id)}/seal`, {
      lookup_id: found.lookupId,
      redeem_proof_hash: p.b64encode(p.invitationRedeemHash(found.redeemProof)),
      mac: p.b64encode(mac),
    });
  } finally {
    for (const secret of [code, found.macKey, found.redeemProof]) secret.fill(0);
  }
  return {
    invitationId: prepared.invitation_id,
    codeText,
    expiresAt: prepared.expires_at,
    link: joinLink(codeText),
  };
}
