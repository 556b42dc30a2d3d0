"""entered for a participant without access: who entered a message for its author, how and
when the author confirmed it, and the facilitator's note about that (sealed to the case key)

Revision ID: 0014_entered
Revises: 0013_rekey
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_entered"
down_revision: str | None = "0013_rekey"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # Not batch mode (see 0010): on SQLite the new foreign key stays a plain column.
    op.add_column(
        "messages",
        sa.Column(
            "entered_by_id",
            sa.String(length=36),
            comment="the facilitator who entered it for its author, who has no access",
        ),
    )
    if _on_postgresql():
        op.create_foreign_key(
            "fk_messages_entered_by_id", "messages", "accounts", ["entered_by_id"], ["id"]
        )
    op.add_column("messages", sa.Column("entered_how", sa.String(length=32)))
    op.add_column("messages", sa.Column("entered_confirmed_on", sa.Date()))
    op.add_column(
        "messages",
        sa.Column(
            "entered_note",
            sa.LargeBinary(),
            comment="sealed to the case key (purpose entered-note:<object id>)",
        ),
    )


def downgrade() -> None:
    if _on_postgresql():
        op.drop_constraint("fk_messages_entered_by_id", "messages", type_="foreignkey")
    for column in ("entered_note", "entered_confirmed_on", "entered_how", "entered_by_id"):
        op.execute(f"ALTER TABLE messages DROP COLUMN {column}")
