// A case's keys and what is sealed to them, for its facilitators: every request and protocol
// call of the case pages (templates/cases/) is here, and the functions return plain values.
//
//   new case       newCaseFields: the case id, key pair and the grant of the case secret key to
//                  my own key, made here; the case secret key leaves only inside that grant.
//                  The case-key statement for epoch 1 is signed here with my signing key.
//   the case key   openCaseKey (openCase: with my keys): GET /api/cases/{id}/key, opened with
//                  my secret key; its public key must be the one the server lists for the case.
//                  The grant must come from me or trusted staff, and the key must be named by a
//                  case-key statement of trusted staff for this case (client/trust.js); it is
//                  then pinned per case in my vault.
//   names          sealParticipantName / openParticipantName: display names sealed to the case
//                  key with the purpose "participant-name:<participant id>", so the browser makes
//                  the participant id before anything is sent.
//   giving the key giveCaseKey: the case public key, boxed from me to a participant who joined.
//   security       securityNumber (from the participant's public key, never the server's
//   numbers        digits), loadPins / keyCheck / pinComparedKey (the keys compared in person,
//                  pinned in my vault, which the server cannot read or forge).
//
// Failures: CaseKeyUnavailable, NameNotOpened, VaultUnreadable (client/vault.js), ApiError,
// NotGenuine and TrustNotSetUp (client/trust.js), and KeysUnavailable (crypto/keys.js) when
// this tab holds no key.

import { forget, holdSecret, protocol } from "../crypto/keys.js";
import { statementTime } from "../crypto/trust-chain.js";
import { ApiError, ShowableError } from "../lib/errors.js";
import { getJSON, postJSON } from "../lib/http.js";
import { newId } from "../lib/ids.js";
import { forgetOlder, olderCaseKeys, openWithCaseKeys } from "./case-epochs.js";
import { refuse } from "./security-events.js";
import { loadSecretKey } from "./session.js";
import { checkCaseKey, loadTrust, pinCaseKey } from "./trust.js";
import { keyStatus, loadVault, pinFor, pinKey } from "./vault.js";

export { NotGenuine, TrustNotSetUp } from "./trust.js";
export { VaultUnreadable } from "./vault.js";

/** The case key could not be unlocked (no grant for us, or one that does not open). */
export class CaseKeyUnavailable extends ShowableError {
  constructor(message) {
    super(message);
    this.name = "CaseKeyUnavailable";
  }
}

/** A display name did not open with the case key: it may have been damaged. */
export class NameNotOpened extends ShowableError {
  constructor() {
    super("This person's name could not be unlocked with the case's key.");
    this.name = "NameNotOpened";
  }
}

const KEY_NOT_UNLOCKED =
  "The case's key is not unlocked, so a name cannot be added. Reload the page to try again.";

function caseUrl(caseId, ...rest) {
  return `/api/cases/${[caseId, ...rest].map(encodeURIComponent).join("/")}`;
}

// --- a new case ------------------------------------------------------------------------------

/**
 * The fields a new case is opened with, besides its reference and label:
 * {case_id, public_key, grant, case_key_statement {statement, signature}}. The grant
 * (makeCaseGrant from me to me) is the only place the case secret key goes; it is forgotten
 * here as soon as it is sealed. The statement (epoch 1) is what lets participants and other
 * facilitators accept the public key as mine rather than the server's.
 */
export async function newCaseFields() {
  const keys = await loadSecretKey();
  let caseSk = null;
  let signingSecret = null;
  try {
    const p = await protocol();
    const caseId = newId();
    const [secretKey, publicKey] = p.generateIdentity();
    caseSk = holdSecret(secretKey);
    const grant = p.makeCaseGrant(keys.secretKey, keys.publicKey, caseId, caseSk);
    [signingSecret] = p.signingKeysFromSecret(keys.secretKey);
    holdSecret(signingSecret);
    const [statement, signature] = p.signCaseKeyEpoch(signingSecret, {
      case_id: caseId,
      epoch: 1,
      case_public_key: p.b64encode(publicKey),
      issued_at: statementTime(),
      issuer_account_id: keys.accountId,
    });
    return {
      case_id: caseId,
      public_key: p.b64encode(publicKey),
      grant: p.b64encode(grant),
      case_key_statement: { statement: p.b64encode(statement), signature: p.b64encode(signature) },
    };
  } finally {
    forget(signingSecret);
    forget(caseSk);
    forget(keys.secretKey);
  }
}

// --- the case key ----------------------------------------------------------------------------

/**
 * Open this case's secret key: GET /api/cases/{id}/key, then openCaseGrant with my secret key.
 * Before the grant is opened: it must come from me or from trusted staff (sender_account_id,
 * sender_public_key), and the case public key the server lists must be named by a case-key
 * statement of trusted staff for this case, and agree with my pin for the case (pinned now if
 * none). The grant must then open for exactly this case, and the secret must match that public
 * key, so that letters sealed by participants to it are ones we can read.
 * Returns {caseSk (held: wiped on quick exit), casePk, epoch, older [{epoch, caseSk}]}.
 */
export async function openCaseKey(keys, caseId) {
  const p = await protocol();
  const answer = await caseKeyAnswer(caseId);
  await checkCaseKeyAnswer(p, keys, caseId, answer);
  let caseSk;
  try {
    caseSk = holdSecret(
      p.openCaseGrant(
        keys.secretKey,
        p.b64decode(answer.sender_public_key),
        caseId,
        p.b64decode(answer.grant),
      ),
    );
  } catch (error) {
    if (error instanceof p.ProtocolError) {
      throw new CaseKeyUnavailable(
        "This case's key could not be unlocked, so names and letters cannot be shown. Nothing was changed. Please tell your service manager.",
      );
    }
    throw error;
  }
  const casePk = p.publicKeyFromSecret(caseSk);
  if (p.b64encode(casePk) !== answer.case_public_key) {
    forget(caseSk);
    throw new CaseKeyUnavailable(
      "This case's keys do not match each other, so nothing can be sealed for it safely. Please tell your service manager.",
    );
  }
  // Earlier epochs' secrets, through each epoch's grant of the one before: what was sealed
  // before a facilitator left still opens here (client/case-epochs.js).
  const older = olderCaseKeys(p, caseId, { epoch: answer.epoch, caseSk }, answer.previous);
  return { caseSk, casePk, epoch: answer.epoch, older };
}

async function caseKeyAnswer(caseId) {
  try {
    return await getJSON(caseUrl(caseId, "key"));
  } catch (error) {
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
      throw new CaseKeyUnavailable(
        "You do not hold this case's key yet. A facilitator who works on this case can give it to you.",
      );
    }
    throw error;
  }
}

/** The trust checks of a case key answer (above); NotGenuine (reported) when one fails. */
async function checkCaseKeyAnswer(p, keys, caseId, answer) {
  const refusal = { audience: "staff", caseId };
  // My own keys count as trusted here: a grant or statement I made myself (the case's opening)
  // is mine whether or not I am certified yet.
  const view = await loadTrust(keys, { audience: "staff" });
  if (!view.isTrustedBoxKey(answer.sender_account_id, answer.sender_public_key)) {
    throw refuse("case-grant-not-genuine", refusal);
  }
  let casePublicKey;
  try {
    casePublicKey = p.b64decode(answer.case_public_key);
  } catch (error) {
    if (error instanceof p.ProtocolError) throw refuse("case-key-not-genuine", refusal);
    throw error;
  }
  const signed = answer.case_key_statement;
  const fields = checkCaseKey(p, view, { caseId, signed, casePublicKey, ...refusal });
  await pinCaseKey(keys, { caseId, fields, ...refusal });
}

/** My keys (client/session.js loadSecretKey) and this case's key: {caseId, keys, caseKey}. */
export async function openCase(keys, caseId) {
  return { caseId, keys, caseKey: await openCaseKey(keys, caseId) };
}

/** Zero my keys and the case key (either may be missing): when the page is left. */
export function forgetCase({ keys = null, caseKey = null } = {}) {
  forget(caseKey?.caseSk);
  forgetOlder(caseKey);
  forget(keys?.secretKey);
}

// --- names: participants' and supporters' -------------------------------------------------------
//
// Sealed to the case key with the purpose "<kind>-name:<id>" (docs/protocol-v1.md, "Case data"),
// so a name sealed for one person never opens as another's, nor a supporter's as a participant's.

/**
 * A new person's fields: {<kind>_id, sealed_name}, `kind` "participant" or "supporter". The id is
 * made here because the sealed name's purpose names it. `opened` is openCase's answer, or null
 * when the case key did not open (then nothing can be sealed).
 */
async function sealName(opened, kind, name) {
  if (!opened) throw new CaseKeyUnavailable(KEY_NOT_UNLOCKED);
  const p = await protocol();
  const id = newId();
  const sealed = p.sealCaseText(opened.caseKey.caseSk, opened.caseId, `${kind}-name:${id}`, name);
  return { [`${kind}_id`]: id, sealed_name: p.b64encode(sealed) };
}

/** The display name sealed for this person, or NameNotOpened. */
async function openName(opened, kind, id, sealedNameB64) {
  const p = await protocol();
  try {
    const purpose = `${kind}-name:${id}`;
    const sealed = p.b64decode(sealedNameB64);
    return await openWithCaseKeys(p, opened.caseKey, (caseSk) =>
      p.openCaseText(caseSk, opened.caseId, purpose, sealed),
    );
  } catch (error) {
    if (error instanceof p.ProtocolError) throw new NameNotOpened();
    throw error;
  }
}

export const sealParticipantName = (opened, name) => sealName(opened, "participant", name);
export const openParticipantName = (opened, participantId, sealedNameB64) =>
  openName(opened, "participant", participantId, sealedNameB64);
export const sealSupporterName = (opened, name) => sealName(opened, "supporter", name);
export const openSupporterName = (opened, supporterId, sealedNameB64) =>
  openName(opened, "supporter", supporterId, sealedNameB64);

// --- giving the case key -----------------------------------------------------------------------

/**
 * Give a participant who has joined the case's public key, boxed from me to their account key
 * (makeCasePublicGrant): they seal their letters to it, so it must come from a facilitator they
 * know, never from a bare server field. POST .../participants/{pid}/case-key; with
 * `{ supporterId }`, to a supporter or representative who writes for them
 * (POST .../supporters/{sid}/case-key).
 */
export async function giveCaseKey(opened, participantId, accountPublicKeyB64, { supporterId } = {}) {
  const p = await protocol();
  const grant = p.makeCasePublicGrant(
    opened.keys.secretKey,
    p.b64decode(accountPublicKeyB64),
    opened.caseId,
    opened.caseKey.casePk,
  );
  const holder = supporterId ? ["supporters", supporterId] : ["participants", participantId];
  await postJSON(caseUrl(opened.caseId, ...holder, "case-key"), {
    grant: p.b64encode(grant),
  });
}

// --- security numbers and keys compared in person ------------------------------------------------

/** "12345 67890 …" worked out here from a public key (base64url), or null for a damaged key. */
export async function securityNumber(publicKeyB64, signingPublicKeyB64 = null) {
  const p = await protocol();
  try {
    const box = p.b64decode(publicKeyB64);
    const digits = signingPublicKeyB64
      ? p.identityFingerprintDigits(box, p.b64decode(signingPublicKeyB64))
      : p.fingerprintDigits(box);
    return p.formatFingerprint(digits);
  } catch (error) {
    if (error instanceof p.ProtocolError) return null;
    throw error;
  }
}

/** The keys I have compared in person: {data, readable} (readable false: the vault did not open). */
export function loadPins(keys) {
  return loadVault(keys);
}

/** Where a participant's key is pinned: their account id, or the participant id before that. */
function pinIds({ accountId, participantId }) {
  return [accountId, `participant:${participantId}`];
}

/**
 * How a participant's current key compares with what was compared in person (crypto/vault.js
 * keyStatus): "verified", "changed", "colleague" (only the server says so) or "unverified".
 * `participant`: {accountId, participantId, publicKey, verifiedPublicKey} (keys base64url).
 */
export function keyCheck(pins, participant) {
  const pinned = pinFor(pins.data, ...pinIds(participant));
  return keyStatus(pinned, participant.publicKey, participant.verifiedPublicKey || null);
}

/** Pin the key compared in person in my vault (VaultUnreadable if it does not open): the pins. */
export async function pinComparedKey(keys, participant) {
  const [id] = pinIds(participant).filter(Boolean);
  return { data: await pinKey(keys, id, participant.publicKey), readable: true };
}
