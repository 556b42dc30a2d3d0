"""grants owed again: participants marked when a comparison in person finds grants owed to
them (messages/regrants.py), so the facilitator's home and queue look at those few only; an
index on what a supporter wrote

Existing rows are marked exactly as the portal would have found them: a participant who has
not withdrawn, whose current key is the one compared in person, with something released to
them or written by them that has no grant to them. The mark is the time of that comparison.

Revision ID: 0027_grants_owed_marker
Revises: 0026_known_browsers
Create Date: 2026-12-03 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_grants_owed_marker"
down_revision: str | None = "0026_known_browsers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As messages/regrants.waiting_statement asked of every participant before this revision
# (the states: messages/states.RECIPIENT_GRANT_STATES, as stored).
_OWED_NOW = """
UPDATE participants SET grants_owed_since = key_verified_at
WHERE withdrawn_at IS NULL
  AND account_id IS NOT NULL
  AND verified_public_key = (
    SELECT accounts.public_key FROM accounts WHERE accounts.id = participants.account_id
  )
  AND (
    EXISTS (
      SELECT 1 FROM messages
      WHERE messages.recipient_participant_id = participants.id
        AND messages.state IN ('awaiting_recipient', 'held', 'opened')
        AND messages.content_deleted_at IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM content_grants
          WHERE content_grants.object_id = messages.object_id
            AND content_grants.version = messages.version
            AND content_grants.purpose = 'recipient'
            AND content_grants.recipient_account_id = participants.account_id
        )
    )
    OR EXISTS (
      SELECT 1 FROM messages
      WHERE messages.author_participant_id = participants.id
        AND messages.written_by_supporter_id IS NULL
        AND messages.entered_by_id IS NULL
        AND messages.content_deleted_at IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM content_grants
          WHERE content_grants.object_id = messages.object_id
            AND content_grants.version = messages.version
            AND content_grants.purpose = 'author'
            AND content_grants.recipient_account_id = participants.account_id
        )
    )
  )
"""


def upgrade() -> None:
    op.add_column(
        "participants",
        sa.Column(
            "grants_owed_since",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="since when grants may be owed again; null: nothing is",
        ),
    )
    op.execute(_OWED_NOW)
    op.create_index("ix_messages_written_by", "messages", ["written_by_supporter_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_written_by", "messages")
    op.execute("ALTER TABLE participants DROP COLUMN grants_owed_since")
