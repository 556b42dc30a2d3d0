"""facilitator teams and two-person approval: who added each facilitator of a case, a case's
high-risk category, a message's first approval (who, when, their note sealed to the case key),
and what waits for review now counts items waiting for a second approval (ix_messages_waiting
rebuilt on the wider condition)

Revision ID: 0010_teams
Revises: 0009_supporters
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_teams"
down_revision: str | None = "0009_supporters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The conditions of ix_messages_waiting before and after, written out (a migration keeps the
# schema of its day, whatever portal/messages/models.py WAITING_PREDICATE becomes).
WAITING_BEFORE = "state IN ('in_review', 'submitted')"
WAITING_AFTER = "state IN ('approved_once', 'in_review', 'submitted')"


def _waiting_index(where: str) -> None:
    op.drop_index("ix_messages_waiting", table_name="messages")
    op.create_index(
        "ix_messages_waiting",
        "messages",
        ["case_id", "submitted_at", "id"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


# (table, column, the table its foreign key names, comment)
COLUMNS = [
    (
        "case_facilitators",
        "added_by_id",
        "accounts",
        "the colleague who added them; none: opened the case",
    ),
    ("messages", "first_approved_by_id", "accounts", None),
    ("messages", "approval_note_object_id", "content_objects", None),
]


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # Not batch mode: on SQLite a new foreign key rebuilds the table, and dropping the old one
    # (with foreign keys on) would cascade to every row that names it (0006 says the same). So
    # on SQLite these columns are plain; PostgreSQL gets the foreign keys as constraints.
    op.add_column(
        "cases",
        sa.Column(
            "high_risk",
            sa.String(length=32),
            nullable=True,
            comment="set: release needs two different facilitators' approval",
        ),
    )
    op.add_column("cases", sa.Column("high_risk_changed_at", sa.DateTime(timezone=True)))
    op.add_column("messages", sa.Column("first_approved_at", sa.DateTime(timezone=True)))
    for table, column, target, comment in COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=36), comment=comment))
        if _on_postgresql():
            op.create_foreign_key(f"fk_{table}_{column}", table, target, [column], ["id"])
    op.create_index("ix_messages_approval_note_object", "messages", ["approval_note_object_id"])
    _waiting_index(WAITING_AFTER)


def downgrade() -> None:
    _waiting_index(WAITING_BEFORE)
    op.drop_index("ix_messages_approval_note_object", table_name="messages")
    for table, column, _target, _comment in reversed(COLUMNS):
        if _on_postgresql():
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("ALTER TABLE messages DROP COLUMN first_approved_at")
    op.execute("ALTER TABLE cases DROP COLUMN high_risk_changed_at")
    op.execute("ALTER TABLE cases DROP COLUMN high_risk")
