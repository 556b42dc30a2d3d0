"""a message by the content object it carries: every chunk GET and upload PUT asks which message
names an object (its letter, feedback, content note or transcript), which without these indexes
read every message

Revision ID: 0008_message_objects
Revises: 0007_pages_pg2
Create Date: 2026-12-01 19:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_message_objects"
down_revision: str | None = "0007_pages_pg2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index name, column)
INDEXES = [
    ("ix_messages_object", "object_id"),
    ("ix_messages_feedback_object", "feedback_object_id"),
    ("ix_messages_content_note_object", "content_note_object_id"),
    ("ix_messages_transcript_object", "transcript_object_id"),
]


def upgrade() -> None:
    for name, column in INDEXES:
        op.create_index(name, "messages", [column])


def downgrade() -> None:
    for name, _column in reversed(INDEXES):
        op.drop_index(name, table_name="messages")
