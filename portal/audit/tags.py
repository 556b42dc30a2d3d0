"""Typed audit tags, named ``subject:action``. Rows carry ids and actions, never content."""

from enum import StrEnum


class AuditTag(StrEnum):
    SETUP_LINK_ISSUED = "setup:link-issued"
    INVITATION_CREATED = "invitation:created"
    INVITATION_REVOKED = "invitation:revoked"
    ACCOUNT_JOINED = "account:joined"
    ACCOUNT_SIGNED_IN = "account:signed-in"
    ACCOUNT_SIGNIN_FAILED = "account:signin-failed"
    ACCOUNT_SIGNIN_THROTTLED = "account:signin-throttled"
    ACCOUNT_SIGNED_OUT = "account:signed-out"
    ACCOUNT_QUICK_EXIT = "account:quick-exit"
    ACCOUNT_SIGNED_OUT_EVERYWHERE = "account:signed-out-everywhere"
    SESSION_ENDED = "session:ended"
    ACCOUNT_PASSWORD_CHANGED = "account:password-changed"  # noqa: S105  (a tag, not a password)
    ACCOUNT_RECOVERED = "account:recovered"
