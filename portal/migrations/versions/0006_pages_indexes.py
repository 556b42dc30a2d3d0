"""pages flat as the service grows: indexes for every list and lookup a page makes, and each
case's running total of stored content bytes (quotas no longer sum every version)

Revision ID: 0006_pages_indexes
Revises: 0005
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pages_indexes"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index name, columns). Each serves a page or a lookup that would otherwise scan its
# whole table (bench/pages.py measures them; docs/architecture.md, "Pages at every size").
INDEXES = [
    # A case's audit trail, oldest first, one page at a time.
    ("audit_events", "ix_audit_events_subject", ["subject_id", "id"]),
    # A participant's home: what they wrote, newest first; what was passed on to them.
    ("messages", "ix_messages_author", ["author_participant_id", "submitted_at"]),
    ("messages", "ix_messages_recipient", ["recipient_participant_id", "state_changed_at"]),
    # A letter's timeline.
    ("message_events", "ix_message_events_message", ["message_id", "id"]),
    # Signing in and every participant page: the participant row of an account.
    ("participants", "ix_participants_account", ["account_id"]),
    # The facilitator's home: who withdrew lately (few, among every participant ever).
    ("participants", "ix_participants_withdrawn", ["withdrawn_at"]),
    # The case page: whether an invitation waits for each participant.
    ("invitations", "ix_invitations_participant_id", ["participant_id"]),
    # Every facilitator page: the cases they facilitate.
    ("case_facilitators", "ix_case_facilitators_account", ["account_id", "case_id"]),
    # A case's content (quotas, cleanup) and its drafts.
    ("content_objects", "ix_content_objects_case", ["case_id"]),
    ("drafts", "ix_drafts_case", ["case_id"]),
    ("drafts", "ix_drafts_account", ["account_id"]),
    # Reading a version's grants for one reader.
    ("content_grants", "ix_content_grants_recipient", ["recipient_account_id"]),
]


def upgrade() -> None:
    # The review queue picks a page of ids from this index alone: it gains the id.
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_queue")
        batch_op.create_index("ix_messages_queue", ["case_id", "state", "submitted_at", "id"])
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stored_bytes",
                sa.BigInteger(),
                nullable=False,
                server_default="0",
                comment="ciphertext bytes of every stored content version of the case (quotas)",
            )
        )
    op.execute(
        "UPDATE cases SET stored_bytes = (SELECT COALESCE(SUM(v.ciphertext_size), 0) "
        "FROM content_versions v JOIN content_objects o ON o.id = v.object_id "
        "WHERE o.case_id = cases.id)"
    )


def downgrade() -> None:
    # Not batch mode: on SQLite it would rebuild the cases table, and dropping the old one (with
    # foreign keys on) would cascade to every participant, message and content object. Both
    # databases drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE cases DROP COLUMN stored_bytes")
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_queue")
        batch_op.create_index("ix_messages_queue", ["case_id", "state", "submitted_at"])
