"""The one route table."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from portal.accounts import views as accounts
from portal.cases import views as cases
from portal.factors import views as factors
from portal.feedback import views as feedback
from portal.invitations import views as invitations
from portal.media import views as media
from portal.messages import author_views as writing
from portal.messages import entered_views as entered
from portal.messages import inbox_views as inbox
from portal.messages import regrant_views, supporter_views
from portal.messages import review_views as review
from portal.notifications import views as notices
from portal.referrals import views as referrals
from portal.reports import views as reports
from portal.trust import views as trust
from portal.web import EndpointRoute
from portal.workspace import case_actions, case_records, new_case
from portal.workspace import views as workspace

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
UPLOAD_CHUNK_PATH = "/api/uploads/{object_id}/{version}/{part}/{index}"
# The one route whose body may exceed the global limit (BodyLimitMiddleware): whole chunks.
UPLOAD_CHUNK_PATTERN = re.compile(r"/api/uploads/[^/]+/[^/]+/[^/]+/[^/]+")


def routes() -> list[BaseRoute]:
    return [
        EndpointRoute("/", accounts.root, name="root"),
        EndpointRoute("/healthz", accounts.healthz, name="healthz"),
        # Signing in and joining
        EndpointRoute("/sign-in", accounts.sign_in_page, name="sign_in_page"),
        EndpointRoute("/join", invitations.join_page, name="join_page"),
        EndpointRoute("/setup", invitations.setup_page, name="setup_page"),
        EndpointRoute("/recover", accounts.recover_page, name="recover_page"),
        EndpointRoute("/sign-out", accounts.sign_out, methods=["POST"], name="sign_out"),
        EndpointRoute(
            "/session/quick-exit", accounts.quick_exit, methods=["POST"], name="quick_exit"
        ),
        EndpointRoute(
            "/api/join/start", invitations.api_join_start, methods=["POST"], name="api_join_start"
        ),
        EndpointRoute(
            "/api/join/complete",
            invitations.api_join_complete,
            methods=["POST"],
            name="api_join_complete",
        ),
        EndpointRoute(
            "/api/sign-in/params",
            accounts.api_sign_in_params,
            methods=["POST"],
            name="api_sign_in_params",
        ),
        EndpointRoute("/api/sign-in", accounts.api_sign_in, methods=["POST"], name="api_sign_in"),
        EndpointRoute(
            "/api/recovery/start",
            accounts.api_recovery_start,
            methods=["POST"],
            name="api_recovery_start",
        ),
        EndpointRoute(
            "/api/recovery/complete",
            accounts.api_recovery_complete,
            methods=["POST"],
            name="api_recovery_complete",
        ),
        *second_factor_routes(),
        # Signed in
        EndpointRoute("/home", workspace.home, name="home"),
        EndpointRoute("/account", accounts.account, name="account"),
        EndpointRoute("/account/password", accounts.password_page, name="password_page"),
        EndpointRoute("/account/sessions", accounts.sessions_page, name="sessions_page"),
        EndpointRoute(
            "/account/sessions/end-others",
            accounts.end_other_sessions,
            methods=["POST"],
            name="end_other_sessions",
        ),
        EndpointRoute(
            "/account/sessions/{session_id}/end",
            accounts.end_session,
            methods=["POST"],
            name="end_session",
        ),
        EndpointRoute(
            "/account/browsers/{browser_id}/forget",
            accounts.forget_browser,
            methods=["POST"],
            name="forget_browser",
        ),
        EndpointRoute("/account/notices", notices.notices_page, name="notices_page"),
        EndpointRoute(
            "/account/notices", notices.save_notices, methods=["POST"], name="save_notices"
        ),
        EndpointRoute(
            "/account/notices/off",
            notices.turn_off_notices,
            methods=["POST"],
            name="turn_off_notices",
        ),
        EndpointRoute(
            "/account/notices/test", notices.test_notice, methods=["POST"], name="test_notice"
        ),
        EndpointRoute("/api/session", accounts.api_session, name="api_session"),
        EndpointRoute(
            "/api/session/status", accounts.api_session_status, name="api_session_status"
        ),
        EndpointRoute(
            "/api/session/keepalive", accounts.api_keepalive, methods=["POST"], name="api_keepalive"
        ),
        EndpointRoute("/api/account/kdf", accounts.api_account_kdf, name="api_account_kdf"),
        EndpointRoute(
            "/api/account/password",
            accounts.api_change_password,
            methods=["POST"],
            name="api_change_password",
        ),
        EndpointRoute(
            "/api/account/signing-key",
            accounts.api_register_signing_key,
            methods=["POST"],
            name="api_register_signing_key",
        ),
        # Trust anchors (docs/api-trust.md)
        EndpointRoute("/api/trust", trust.api_trust, name="api_trust"),
        EndpointRoute(
            "/api/trust/certificates",
            trust.api_certify,
            methods=["POST"],
            name="api_certify",
        ),
        EndpointRoute(
            "/api/trust/root-handover",
            trust.api_root_handover,
            methods=["POST"],
            name="api_root_handover",
        ),
        EndpointRoute(
            "/api/security-events",
            workspace.api_security_event,
            methods=["POST"],
            name="api_security_event",
        ),
        # Staff
        EndpointRoute("/staff/invitations", invitations.invitations, name="invitations"),
        EndpointRoute(
            "/staff/invitations/{invitation_id}/revoke",
            invitations.revoke_invitation,
            methods=["POST"],
            name="revoke_invitation",
        ),
        EndpointRoute(
            "/api/invitations/prepare",
            invitations.api_prepare_invitation,
            methods=["POST"],
            name="api_prepare_invitation",
        ),
        EndpointRoute(
            "/api/invitations/{invitation_id}/seal",
            invitations.api_seal_invitation,
            methods=["POST"],
            name="api_seal_invitation",
        ),
        EndpointRoute("/staff/people", trust.staff_page, name="staff_page"),
        EndpointRoute(
            "/staff/people/{account_id}/disable",
            trust.disable_staff_account,
            methods=["POST"],
            name="disable_staff_account",
        ),
        EndpointRoute("/staff/certify", trust.certify_page, name="certify_page"),
        EndpointRoute(
            "/staff/cases/{case_id}/reassign",
            workspace.reassign_case,
            methods=["POST"],
            name="reassign_case",
        ),
        EndpointRoute("/api/vault", accounts.api_vault, name="api_vault"),
        EndpointRoute(
            "/api/vault", accounts.api_save_vault, methods=["PUT"], name="api_save_vault"
        ),
        # Cases (facilitators)
        EndpointRoute("/cases", workspace.cases_page, name="cases_page"),
        EndpointRoute("/follow-ups", workspace.follow_ups_page, name="follow_ups_page"),
        EndpointRoute("/cases/new", new_case.new_case_page, name="new_case_page"),
        EndpointRoute("/cases/{case_id}", workspace.case_page, name="case_page"),
        EndpointRoute("/cases/{case_id}/audit", workspace.case_audit_page, name="case_audit_page"),
        EndpointRoute("/api/cases", new_case.api_open_case, methods=["POST"], name="api_open_case"),
        EndpointRoute("/api/cases/{case_id}/key", cases.api_case_key, name="api_case_key"),
        EndpointRoute(
            "/api/cases/{case_id}/facilitators",
            case_actions.api_add_facilitator,
            methods=["POST"],
            name="api_add_facilitator",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/facilitators/{account_id}/remove",
            case_actions.api_remove_facilitator,
            methods=["POST"],
            name="api_remove_facilitator",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/hand-over",
            case_actions.api_hand_over,
            methods=["POST"],
            name="api_hand_over",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/key-epochs",
            case_actions.api_start_epoch,
            methods=["POST"],
            name="api_start_epoch",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/high-risk",
            case_actions.api_case_high_risk,
            methods=["POST"],
            name="api_case_high_risk",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants", workspace.api_participants, name="api_participants"
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants",
            case_actions.api_add_participant,
            methods=["POST"],
            name="api_add_participant",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants/{participant_id}/consent",
            case_actions.api_record_consent,
            methods=["POST"],
            name="api_record_consent",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants/{participant_id}/case-key",
            cases.api_give_case_key,
            methods=["POST"],
            name="api_give_case_key",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants/{participant_id}/verified",
            case_actions.api_mark_verified,
            methods=["POST"],
            name="api_mark_verified",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants/{participant_id}/supporters",
            case_actions.api_add_supporter,
            methods=["POST"],
            name="api_add_supporter",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/supporters/{supporter_id}/revoke",
            case_actions.api_revoke_supporter,
            methods=["POST"],
            name="api_revoke_supporter",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/supporters/{supporter_id}/verified",
            case_actions.api_mark_supporter_verified,
            methods=["POST"],
            name="api_mark_supporter_verified",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/supporters/{supporter_id}/case-key",
            case_actions.api_give_supporter_case_key,
            methods=["POST"],
            name="api_give_supporter_case_key",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/regrants", regrant_views.api_regrants, name="api_regrants"
        ),
        EndpointRoute(
            "/api/cases/{case_id}/regrants",
            regrant_views.api_regrant,
            methods=["POST"],
            name="api_regrant",
        ),
        EndpointRoute(
            "/supporting/{message_id}", supporter_views.supporting_page, name="supporting_page"
        ),
        EndpointRoute(
            "/api/supporting/{message_id}/open",
            supporter_views.api_supporting_open,
            methods=["POST"],
            name="api_supporting_open",
        ),
        EndpointRoute(
            "/api/my/supporter-requests",
            workspace.api_request_supporter,
            methods=["POST"],
            name="api_request_supporter",
        ),
        EndpointRoute(
            "/api/my/supporter-requests/{request_id}/cancel",
            workspace.api_cancel_supporter_request,
            methods=["POST"],
            name="api_cancel_supporter_request",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/supporter-requests/{request_id}/close",
            case_actions.api_close_supporter_request,
            methods=["POST"],
            name="api_close_supporter_request",
        ),
        EndpointRoute(
            "/api/my/supporters/{supporter_id}/revoke",
            workspace.api_revoke_my_supporter,
            methods=["POST"],
            name="api_revoke_my_supporter",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/status",
            case_actions.api_case_status,
            methods=["POST"],
            name="api_case_status",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/stage",
            case_actions.api_case_stage,
            methods=["POST"],
            name="api_case_stage",
        ),
        # The case's records, for its facilitators only (portal/casework)
        EndpointRoute(
            "/api/cases/{case_id}/risk-assessments",
            case_records.api_risk_assessment,
            methods=["POST"],
            name="api_risk_assessment",
        ),
        EndpointRoute("/cases/{case_id}/notes", case_records.case_notes, name="case_notes"),
        EndpointRoute(
            "/api/cases/{case_id}/notes",
            case_records.api_case_note,
            methods=["POST"],
            name="api_case_note",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/agreement",
            case_records.api_agreement_item,
            methods=["POST"],
            name="api_agreement_item",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/agreement/{item_id}/completed",
            case_records.api_agreement_item_completed,
            methods=["POST"],
            name="api_agreement_item_completed",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/agreement/{item_id}/due",
            case_records.api_agreement_item_due,
            methods=["POST"],
            name="api_agreement_item_due",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/agreement/{item_id}/remove",
            case_records.api_agreement_item_remove,
            methods=["POST"],
            name="api_agreement_item_remove",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/objects",
            review.api_new_object,
            methods=["POST"],
            name="api_new_object",
        ),
        # Entered for a participant without access (facilitators)
        EndpointRoute(
            "/cases/{case_id}/participants/{participant_id}/enter",
            entered.enter_page,
            name="enter_page",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants/{participant_id}/entered/objects",
            entered.api_new_entered_object,
            methods=["POST"],
            name="api_new_entered_object",
        ),
        EndpointRoute(
            "/api/cases/{case_id}/participants/{participant_id}/entered",
            entered.api_enter,
            methods=["POST"],
            name="api_enter",
        ),
        EndpointRoute("/print/{message_id}", entered.print_page, name="print_page"),
        EndpointRoute(
            "/api/messages/{message_id}/printed",
            entered.api_printed,
            methods=["POST"],
            name="api_printed",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/withdraw-for-them",
            entered.api_withdraw_for_them,
            methods=["POST"],
            name="api_withdraw_for_them",
        ),
        EndpointRoute(
            "/review/{message_id}/revise-for-them", entered.revise_page, name="revise_for_them_page"
        ),
        EndpointRoute(
            "/api/messages/{message_id}/revise-for-them/object",
            entered.api_take_up_revision,
            methods=["POST"],
            name="api_take_up_revision",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/revise-for-them",
            entered.api_revise_for_them,
            methods=["POST"],
            name="api_revise_for_them",
        ),
        # The review queue (facilitators)
        EndpointRoute("/queue", review.queue_page, name="queue_page"),
        EndpointRoute("/review/{message_id}", review.review_page, name="review_page"),
        EndpointRoute(
            "/api/messages/{message_id}/claim",
            review.api_claim,
            methods=["POST"],
            name="api_claim",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/release",
            review.api_release,
            methods=["POST"],
            name="api_release",
        ),
        EndpointRoute("/api/messages/{message_id}/review", review.api_review, name="api_review"),
        EndpointRoute(
            "/api/messages/{message_id}/approve",
            review.api_approve,
            methods=["POST"],
            name="api_approve",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/approve-once",
            review.api_approve_once,
            methods=["POST"],
            name="api_approve_once",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/return",
            review.api_return,
            methods=["POST"],
            name="api_return",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/withhold",
            review.api_withhold,
            methods=["POST"],
            name="api_withhold",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/resume",
            review.api_resume,
            methods=["POST"],
            name="api_resume",
        ),
        EndpointRoute(
            "/api/messages/{message_id}/decline-told",
            review.api_decline_told,
            methods=["POST"],
            name="api_decline_told",
        ),
        # Letters (participants)
        EndpointRoute("/letters/new", writing.compose_page, name="compose_page"),
        EndpointRoute("/letters/{message_id}", writing.letter_page, name="letter_page"),
        EndpointRoute("/letters/{message_id}/revise", writing.revise_page, name="revise_page"),
        EndpointRoute("/inbox/{message_id}", inbox.inbox_page, name="inbox_page"),
        EndpointRoute("/withdraw", writing.withdraw_page, name="withdraw_page"),
        EndpointRoute("/api/me/case", writing.api_my_case, name="api_my_case"),
        EndpointRoute("/api/drafts", writing.api_drafts, name="api_drafts"),
        EndpointRoute(
            "/api/drafts/{draft_id}", writing.api_save_draft, methods=["PUT"], name="api_save_draft"
        ),
        EndpointRoute(
            "/api/drafts/{draft_id}",
            writing.api_delete_draft,
            methods=["DELETE"],
            name="api_delete_draft",
        ),
        EndpointRoute(
            "/api/letters/objects",
            writing.api_new_letter_object,
            methods=["POST"],
            name="api_new_letter_object",
        ),
        EndpointRoute(
            "/api/letters", writing.api_send_letter, methods=["POST"], name="api_send_letter"
        ),
        EndpointRoute("/api/letters/{message_id}", writing.api_my_letter, name="api_my_letter"),
        EndpointRoute(
            "/api/letters/{message_id}/revise",
            writing.api_revise_letter,
            methods=["POST"],
            name="api_revise_letter",
        ),
        EndpointRoute(
            "/api/letters/{message_id}/withdraw",
            writing.api_withdraw_letter,
            methods=["POST"],
            name="api_withdraw_letter",
        ),
        EndpointRoute("/api/inbox/{message_id}/note", inbox.api_inbox_note, name="api_inbox_note"),
        EndpointRoute(
            "/api/inbox/{message_id}/open",
            inbox.api_inbox_open,
            methods=["POST"],
            name="api_inbox_open",
        ),
        EndpointRoute(
            "/api/inbox/{message_id}/not-yet",
            inbox.api_inbox_not_yet,
            methods=["POST"],
            name="api_inbox_not_yet",
        ),
        EndpointRoute(
            "/api/inbox/{message_id}/hold",
            inbox.api_inbox_hold,
            methods=["POST"],
            name="api_inbox_hold",
        ),
        EndpointRoute(
            "/api/inbox/{message_id}/decline",
            inbox.api_inbox_decline,
            methods=["POST"],
            name="api_inbox_decline",
        ),
        EndpointRoute(
            "/api/letters/{message_id}/delete",
            writing.api_delete_letter,
            methods=["POST"],
            name="api_delete_letter",
        ),
        EndpointRoute("/api/withdraw", writing.api_withdraw, methods=["POST"], name="api_withdraw"),
        # Media: resumable uploads before submitting, and chunks for readers
        EndpointRoute(
            "/api/uploads/{object_id}/{version}",
            media.api_start_upload,
            methods=["POST"],
            name="api_start_upload",
        ),
        EndpointRoute(
            "/api/uploads/{object_id}/{version}",
            media.api_upload_status,
            name="api_upload_status",
        ),
        EndpointRoute(
            "/api/uploads/{object_id}/{version}",
            media.api_cancel_upload,
            methods=["DELETE"],
            name="api_cancel_upload",
        ),
        EndpointRoute(
            UPLOAD_CHUNK_PATH,
            media.api_put_chunk,
            methods=["PUT"],
            name="api_put_chunk",
        ),
        EndpointRoute(
            "/api/content/{object_id}/{version}/{part}/{index}",
            media.api_content_chunk,
            name="api_content_chunk",
        ),
        # Referrals: the public pages (no account) and the service manager's Referrals page
        EndpointRoute("/refer", referrals.refer_page, name="refer_page"),
        EndpointRoute("/refer/self", referrals.refer_self_page, name="refer_self_page"),
        EndpointRoute("/api/referrals/key", referrals.api_referral_key, name="api_referral_key"),
        EndpointRoute(
            "/api/referrals",
            referrals.api_submit_referral,
            methods=["POST"],
            name="api_submit_referral",
        ),
        EndpointRoute("/staff/reports", reports.reports_page, name="reports_page"),
        EndpointRoute("/staff/reports.csv", reports.reports_csv, name="reports_csv"),
        EndpointRoute("/staff/reports/print", reports.reports_print, name="reports_print"),
        EndpointRoute(
            "/staff/reports/feedback", feedback.feedback_texts_page, name="feedback_texts_page"
        ),
        # Anonymous feedback after a case closes (portal/feedback/).
        EndpointRoute("/feedback", feedback.feedback_page, name="feedback_page"),
        EndpointRoute(
            "/api/feedback", feedback.api_give_feedback, methods=["POST"], name="api_give_feedback"
        ),
        EndpointRoute(
            "/api/feedback/dismiss",
            feedback.api_dismiss_feedback,
            methods=["POST"],
            name="api_dismiss_feedback",
        ),
        EndpointRoute("/referrals", referrals.referrals_page, name="referrals_page"),
        EndpointRoute("/referrals/inbox", referrals.referrals_inbox, name="referrals_inbox"),
        EndpointRoute(
            "/referrals/received/{referral_id}", referrals.referral_page, name="referral_page"
        ),
        # Triage of one referral (portal/referrals/triage.py)
        EndpointRoute(
            "/referrals/received/{referral_id}/ask-more",
            referrals.ask_for_more,
            methods=["POST"],
            name="ask_for_more",
        ),
        EndpointRoute(
            "/referrals/received/{referral_id}/accept",
            referrals.accept_referral,
            methods=["POST"],
            name="accept_referral",
        ),
        EndpointRoute(
            "/referrals/received/{referral_id}/decline",
            referrals.decline_referral,
            methods=["POST"],
            name="decline_referral",
        ),
        EndpointRoute(
            "/referrals/key",
            referrals.api_create_referral_key,
            methods=["POST"],
            name="api_create_referral_key",
        ),
        EndpointRoute(
            "/referrals/access",
            referrals.give_referral_access,
            methods=["POST"],
            name="give_referral_access",
        ),
        EndpointRoute(
            "/referrals/readers/{account_id}/remove",
            referrals.remove_referral_reader,
            methods=["POST"],
            name="remove_referral_reader",
        ),
        EndpointRoute(
            "/api/referrals/my-grant",
            referrals.api_my_referral_grant,
            name="api_my_referral_grant",
        ),
        Mount(
            "/static", app=StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static"
        ),
    ]


def second_factor_routes() -> list[BaseRoute]:
    """The step after the password, the account's factors, a service manager's reset
    (portal/factors; docs/security.md "Second factor")."""
    return [
        EndpointRoute(
            "/sign-in/second-factor", factors.second_factor_page, name="second_factor_page"
        ),
        EndpointRoute(
            "/api/sign-in/second-factor",
            factors.api_pass_second_factor,
            methods=["POST"],
            name="api_pass_second_factor",
        ),
        EndpointRoute(
            "/api/sign-in/second-factor/passkey-options",
            factors.api_passkey_sign_in_options,
            methods=["POST"],
            name="api_passkey_sign_in_options",
        ),
        EndpointRoute(
            "/api/sign-in/second-factor/passkey",
            factors.api_pass_with_passkey,
            methods=["POST"],
            name="api_pass_with_passkey",
        ),
        EndpointRoute("/account/second-factor", factors.factors_page, name="factors_page"),
        EndpointRoute("/account/second-factor/app", factors.app_setup_page, name="app_setup_page"),
        EndpointRoute(
            "/account/second-factor/app",
            factors.confirm_app,
            methods=["POST"],
            name="confirm_app",
        ),
        EndpointRoute(
            "/api/account/second-factor/passkey-options",
            factors.api_passkey_setup_options,
            methods=["POST"],
            name="api_passkey_setup_options",
        ),
        EndpointRoute(
            "/api/account/second-factor/passkey",
            factors.api_add_passkey,
            methods=["POST"],
            name="api_add_passkey",
        ),
        EndpointRoute(
            "/account/second-factor/backup-codes",
            factors.make_backup_codes,
            methods=["POST"],
            name="make_backup_codes",
        ),
        EndpointRoute(
            "/account/second-factor/{factor_id}/remove",
            factors.remove_factor,
            methods=["POST"],
            name="remove_factor",
        ),
        EndpointRoute(
            "/staff/people/{account_id}/second-factor",
            factors.reset_page,
            name="second_factor_reset_page",
        ),
        EndpointRoute(
            "/staff/people/{account_id}/second-factor",
            factors.reset_second_factor,
            methods=["POST"],
            name="reset_second_factor",
        ),
    ]
