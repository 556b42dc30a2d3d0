"""Typed audit tags, named ``subject:action``. Rows carry ids and actions, never content."""

from enum import StrEnum


class AuditTag(StrEnum):
    SETUP_LINK_ISSUED = "setup:link-issued"
    INVITATION_CREATED = "invitation:created"
    INVITATION_REVOKED = "invitation:revoked"
    INVITATION_SEALED = "invitation:sealed"
    ACCOUNT_JOINED = "account:joined"
    ACCOUNT_SIGNED_IN = "account:signed-in"
    # From a browser the account did not know (portal/accounts/browsers.py): the subject is
    # the known browser's row, never its device label.
    ACCOUNT_SIGNED_IN_NEW_BROWSER = "account:signed-in-new-browser"
    KNOWN_BROWSER_FORGOTTEN = "known-browser:forgotten"
    ACCOUNT_SIGNIN_FAILED = "account:signin-failed"
    ACCOUNT_SIGNIN_THROTTLED = "account:signin-throttled"
    ACCOUNT_SIGNED_OUT = "account:signed-out"
    ACCOUNT_QUICK_EXIT = "account:quick-exit"
    ACCOUNT_SIGNED_OUT_EVERYWHERE = "account:signed-out-everywhere"
    SESSION_ENDED = "session:ended"
    ACCOUNT_PASSWORD_CHANGED = "account:password-changed"  # noqa: S105  (a tag, not a password)
    ACCOUNT_RECOVERED = "account:recovered"
    # A new key pair after a lost password and recovery code (a facilitator's re-key code).
    ACCOUNT_REKEYED = "account:rekeyed"
    ACCOUNT_DISABLED = "account:disabled"
    ACCOUNT_SIGNING_KEY_REGISTERED = "account:signing-key-registered"
    # Notices by e-mail (portal/notifications): never the address itself.
    NOTICES_TURNED_ON = "notices:turned-on"
    NOTICES_CHANGED = "notices:changed"
    NOTICES_TURNED_OFF = "notices:turned-off"
    # The second factor (portal/factors): ids only, never a code or a secret.
    SECOND_FACTOR_ADDED = "second-factor:added"
    SECOND_FACTOR_REMOVED = "second-factor:removed"
    SECOND_FACTOR_PASSED = "second-factor:passed"
    SECOND_FACTOR_FAILED = "second-factor:failed"
    SECOND_FACTOR_THROTTLED = "second-factor:throttled"
    SECOND_FACTOR_BACKUP_CODE_USED = "second-factor:backup-code-used"
    SECOND_FACTOR_BACKUP_CODES_MADE = "second-factor:backup-codes-made"
    # A service manager, having checked in person who a colleague is, cleared their factors.
    SECOND_FACTOR_RESET = "second-factor:reset"
    # The operator's command line (portal reset-second-factor) did it.
    SECOND_FACTOR_RESET_BY_OPERATOR = "operator:second-factor:reset"
    TRUST_ROOT_ESTABLISHED = "trust:root-established"
    TRUST_STAFF_CERTIFIED = "trust:staff-certified"
    TRUST_STAFF_REVOKED = "trust:staff-revoked"
    TRUST_ROOT_HANDED_OVER = "trust:root-handed-over"
    CASE_OPENED = "case:opened"
    CASE_PAUSED = "case:paused"
    CASE_RESUMED = "case:resumed"
    CASE_CLOSED = "case:closed"
    # The case's path (cases/path.py): each stage reached, and closing with its reason (a
    # category, never words). Cases closed before reasons were recorded have CASE_CLOSED only.
    CASE_STAGE_FIRST_CONTACT = "case:stage-first-contact"
    CASE_STAGE_ASSESSMENT = "case:stage-assessment"
    CASE_STAGE_PREPARATION = "case:stage-preparation"
    CASE_STAGE_COMMUNICATION = "case:stage-indirect-communication"
    CASE_STAGE_OUTCOME = "case:stage-outcome"
    CASE_CLOSED_COMPLETED = "case:closed-completed"
    CASE_CLOSED_HARMED_WITHDREW = "case:closed-person-harmed-withdrew"
    CASE_CLOSED_RESPONSIBLE_WITHDREW = "case:closed-person-responsible-withdrew"
    CASE_CLOSED_NOT_SUITABLE = "case:closed-not-suitable"
    CASE_CLOSED_NO_CONTACT = "case:closed-no-contact"
    # Marked high-risk, one tag per category (the reason is a category, never free text).
    CASE_HIGH_RISK_DOMESTIC_ABUSE = "case:high-risk-domestic-abuse"
    CASE_HIGH_RISK_SEXUAL_HARM = "case:high-risk-sexual-harm"
    CASE_HIGH_RISK_DEATH = "case:high-risk-death"
    CASE_HIGH_RISK_OTHER = "case:high-risk-other"
    CASE_HIGH_RISK_ENDED = "case:high-risk-ended"
    # A case's records (portal/casework): the record's id is the subject; its words are sealed.
    CASE_RISK_ASSESSED_LOW = "case:risk-assessed-low"
    CASE_RISK_ASSESSED_MEDIUM = "case:risk-assessed-medium"
    CASE_RISK_ASSESSED_HIGH = "case:risk-assessed-high"
    CASE_NOTE_WRITTEN = "case:note-written"
    AGREEMENT_ITEM_ADDED = "agreement:item-added"
    AGREEMENT_ITEM_COMPLETED = "agreement:item-completed"
    AGREEMENT_ITEM_REMOVED = "agreement:item-removed"
    CASE_FACILITATOR_ADDED = "case:facilitator-added"
    CASE_FACILITATOR_REMOVED = "case:facilitator-removed"
    CASE_HANDED_OVER = "case:handed-over"
    CASE_KEY_EPOCH_STARTED = "case:key-epoch-started"
    CASE_REASSIGNED = "case:reassigned"
    PARTICIPANT_ADDED = "participant:added"
    PARTICIPANT_JOINED = "participant:joined"
    PARTICIPANT_CONSENT_RECORDED = "participant:consent-recorded"
    PARTICIPANT_GIVEN_CASE_KEY = "participant:given-case-key"
    PARTICIPANT_KEY_VERIFIED = "participant:key-verified"
    PARTICIPANT_WITHDREW = "participant:withdrew"
    SUPPORTER_ADDED = "supporter:added"
    SUPPORTER_JOINED = "supporter:joined"
    SUPPORTER_REVOKED = "supporter:revoked"
    SUPPORTER_KEY_VERIFIED = "supporter:key-verified"
    SUPPORTER_GIVEN_CASE_KEY = "supporter:given-case-key"
    SUPPORTER_REQUESTED = "supporter:requested"
    SUPPORTER_REQUEST_CLOSED = "supporter:request-closed"
    MESSAGE_SUBMITTED = "message:submitted"
    MESSAGE_CLAIMED = "message:claimed"
    MESSAGE_CLAIM_RELEASED = "message:claim-released"
    MESSAGE_APPROVED = "message:approved"
    MESSAGE_APPROVED_ONCE = "message:approved-once"  # the first of two (a high-risk case)
    MESSAGE_RETURNED = "message:returned"
    MESSAGE_WITHHELD = "message:withheld"
    MESSAGE_REVISED = "message:revised"
    MESSAGE_OPENED = "message:opened"
    MESSAGE_NOT_YET = "message:not-yet"
    MESSAGE_READ_BY_SUPPORTER = "message:read-by-supporter"
    # Granted again, to a key compared in person after it changed, or to a supporter verified late.
    MESSAGE_REGRANTED = "message:regranted"
    # A letter written on a participant's behalf (or the facilitator's note on it) granted to
    # that participant by a facilitator's browser, so they can read it before it goes out.
    MESSAGE_SHOWN_TO_SIDE = "message:shown-to-side"
    MESSAGE_HELD = "message:held"
    MESSAGE_RESUMED = "message:resumed"
    MESSAGE_DECLINED = "message:declined"
    # A facilitator told its writer (the writer's pages said it still waited until then).
    MESSAGE_DECLINE_TOLD = "message:decline-told"
    MESSAGE_WITHDRAWN = "message:withdrawn"
    MESSAGE_CONTENT_DELETED = "message:content-deleted"
    # Entered by a facilitator for a participant without access (messages/entered.py), and a
    # reply to such a participant printed for them (ids only, never the content).
    MESSAGE_ENTERED = "message:entered"
    MESSAGE_PRINTED_FOR_PARTICIPANT = "message:printed-for-participant"
    # What a browser refused and reported (POST /api/security-events): security:<kind>.
    SECURITY_CASE_KEY_NOT_GENUINE = "security:case-key-not-genuine"
    SECURITY_CASE_GRANT_NOT_GENUINE = "security:case-grant-not-genuine"
    SECURITY_RELEASE_NOT_GENUINE = "security:release-not-genuine"
    SECURITY_INVITATION_NOT_GENUINE = "security:invitation-not-genuine"
    SECURITY_TRUST_LOG_NOT_GENUINE = "security:trust-log-not-genuine"
    # Referrals (portal/referrals/): ids only; a referral's row names no person.
    REFERRAL_KEY_CREATED = "referral:key-created"
    REFERRAL_KEY_GRANTED = "referral:key-granted"
    REFERRAL_READER_DESIGNATED = "referral:reader-designated"
    REFERRAL_READER_REMOVED = "referral:reader-removed"
    REFERRAL_RECEIVED = "referral:received"
    # Triage (portal/referrals/triage.py): the referral's id as subject.
    REFERRAL_MORE_INFO_ASKED = "referral:more-info-asked"
    REFERRAL_ACCEPTED = "referral:accepted"
    REFERRAL_DECLINED = "referral:declined"
