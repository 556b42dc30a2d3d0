// A case's key epochs (docs/protocol-v1.md, "Case key epochs"): every removal of a facilitator
// starts the next one, made here, in a remaining facilitator's browser.
//
//   makeNextEpoch(opened, {epoch, teamIds}) -> the fields of POST /api/cases/{id}/key-epochs:
//     a new case key pair; its case-key statement signed with my signing key; the new secret
//     boxed to every facilitator still on the case, each box key taken from the trust log
//     (never from the server's account record: a colleague the log does not vouch for gets
//     nothing, NotCertifiedColleague); the new public key boxed to every participant who has
//     joined (as giveCaseKey does); and the old secret boxed to the new key (previous_grant),
//     so whoever holds the new epoch reads what was sealed before it. The facilitator who left
//     gets nothing of it. The new secret leaves this browser only inside those boxes.
//   olderCaseKeys(p, caseId, current, previous) -> [{epoch, caseSk}]: walking back from the
//     current epoch's secret through each epoch's previous_grant (the key answer's
//     `previous`), newest first, as far as the chain goes.
//   openWithCaseKeys(p, caseKey, open) -> open(sk) with the current secret, then the older
//     ones: what was sealed under an earlier epoch (names, letters, notes) still opens.
//
// `opened` is client/cases.js openCase's {caseId, keys, caseKey}; caseKey null for a case a
// service manager reassigned to me, whose earlier key nobody could give me.

import { forget, holdSecret, protocol } from "../crypto/keys.js";
import { statementTime } from "../crypto/trust-chain.js";
import { getJSON, postJSON } from "../lib/http.js";
import { NotCertifiedColleague } from "./case-team.js";
import { loadTrust } from "./trust.js";

function caseUrl(caseId, ...rest) {
  return `/api/cases/${[caseId, ...rest].map(encodeURIComponent).join("/")}`;
}

/** Each facilitator's box key as the trust log vouches for it (mine from my own keys). */
async function teamBoxKeys(p, keys, teamIds) {
  const view = await loadTrust(keys, { audience: "staff" });
  return teamIds.map((accountId) => {
    if (accountId === keys.accountId) return [accountId, keys.publicKey];
    const person = view.staff.find(
      (staff) => staff.account_id === accountId && staff.role === "facilitator",
    );
    if (!person || typeof person.box_public_key !== "string") throw new NotCertifiedColleague();
    return [accountId, p.b64decode(person.box_public_key)];
  });
}

/** The participants who seal to the case key: joined and not withdrawn. */
async function joinedParticipants(caseId) {
  const people = await getJSON(caseUrl(caseId, "participants"));
  return people.filter((person) => person.joined && !person.withdrawn_at && person.account_public_key);
}

export async function makeNextEpoch(opened, { epoch, teamIds }) {
  const { caseId, keys, caseKey } = opened;
  const p = await protocol();
  const boxKeys = await teamBoxKeys(p, keys, teamIds);
  const participants = await joinedParticipants(caseId);
  let caseSk = null;
  let signingSecret = null;
  try {
    const [secretKey, publicKey] = p.generateIdentity();
    caseSk = holdSecret(secretKey);
    [signingSecret] = p.signingKeysFromSecret(keys.secretKey);
    holdSecret(signingSecret);
    const [statement, signature] = p.signCaseKeyEpoch(signingSecret, {
      case_id: caseId,
      epoch,
      case_public_key: p.b64encode(publicKey),
      issued_at: statementTime(),
      issuer_account_id: keys.accountId,
    });
    const b64 = p.b64encode;
    return {
      epoch,
      public_key: b64(publicKey),
      case_key_statement: { statement: b64(statement), signature: b64(signature) },
      facilitator_grants: boxKeys.map(([accountId, boxKey]) => ({
        account_id: accountId,
        grant: b64(p.makeCaseGrant(keys.secretKey, boxKey, caseId, caseSk)),
      })),
      participant_grants: participants.map((person) => ({
        participant_id: person.participant_id,
        grant: b64(
          p.makeCasePublicGrant(
            keys.secretKey,
            p.b64decode(person.account_public_key),
            caseId,
            publicKey,
          ),
        ),
      })),
      // None when I hold no earlier key (a case reassigned to me): the past stays locked.
      ...(caseKey ? { previous_grant: b64(p.makeCaseGrant(caseSk, publicKey, caseId, caseKey.caseSk)) } : {}),
    };
  } finally {
    forget(signingSecret);
    forget(caseSk);
  }
}

/** Make and send the next epoch; the case must then be opened again (client/cases.js). */
export async function startNextEpoch(opened, details) {
  const fields = await makeNextEpoch(opened, details);
  await postJSON(caseUrl(opened.caseId, "key-epochs"), fields);
  return { participants: fields.participant_grants.length };
}

export function olderCaseKeys(p, caseId, current, previous) {
  const older = [];
  let { epoch, caseSk } = current;
  const byEpoch = new Map((previous || []).map((entry) => [entry.epoch, entry.grant]));
  while (byEpoch.has(epoch)) {
    let earlier;
    try {
      const grant = p.b64decode(byEpoch.get(epoch));
      earlier = holdSecret(p.openCaseGrant(caseSk, p.publicKeyFromSecret(caseSk), caseId, grant));
    } catch (error) {
      if (error instanceof p.ProtocolError) break; // what came before stays unreadable here
      throw error;
    }
    epoch -= 1;
    caseSk = earlier;
    older.push({ epoch, caseSk });
  }
  return older;
}

export async function openWithCaseKeys(p, caseKey, open) {
  let failure = null;
  for (const caseSk of [caseKey.caseSk, ...(caseKey.older || []).map((o) => o.caseSk)]) {
    try {
      return await open(caseSk);
    } catch (error) {
      if (!(error instanceof p.ProtocolError)) throw error;
      failure = failure || error;
    }
  }
  throw failure;
}

/** Zero the older epochs' secrets too (client/cases.js forgetCase). */
export function forgetOlder(caseKey) {
  for (const older of caseKey?.older || []) forget(older.caseSk);
}
