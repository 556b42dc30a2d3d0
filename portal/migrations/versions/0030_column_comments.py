"""column comments as the models say them: the supporters' columns (made without theirs),
invitations' participant and supporter columns, and notices.subject_id (the account event, not
this column, makes a runner's notice queued once). PostgreSQL only: SQLite keeps no comments.

Revision ID: 0030_column_comments
Revises: 0029_agreement_first_due
Create Date: 2026-12-03 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030_column_comments"
down_revision: str | None = "0029_agreement_first_due"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): (the comment before this revision, the comment after it), written out: a
# migration keeps the schema of its day, whatever the models become.
COMMENTS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("case_supporters", "participant_id"): (None, "whose side they are on"),
    ("case_supporters", "account_id"): (None, "set when they join"),
    ("case_supporters", "may_read"): (None, "what is released to the participant"),
    ("case_supporters", "may_write"): (None, "write and send on their behalf"),
    ("case_supporters", "display_name"): (None, "sealed to the case key by a facilitator"),
    ("case_supporters", "ends_at"): (None, "access ends by itself at this time"),
    ("case_supporters", "verified_public_key"): (
        None,
        "the key compared in person; a different current key means it changed",
    ),
    ("invitations", "participant_id"): (
        "the case participant this invitation is for",
        "the case participant this invitation is for (or whose side, for a supporter)",
    ),
    ("invitations", "supporter_id"): (
        None,
        "a supporter's or representative's place this invitation is for",
    ),
    ("notices", "subject_id"): (
        "what a notice the runner queued is about (an overdue referral), so it is queued once; "
        "never shown or sent",
        "what a notice the runner queued is about (an overdue referral), as its account event "
        "says (which makes it queued once); never shown or sent",
    ),
}


def _set(after: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for (table, column), (before, now) in COMMENTS.items():
        op.alter_column(
            table,
            column,
            comment=now if after else before,
            existing_comment=before if after else now,
        )


def upgrade() -> None:
    _set(after=True)


def downgrade() -> None:
    _set(after=False)
