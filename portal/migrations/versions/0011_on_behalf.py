"""writing on a participant's behalf: the case public key boxed to a supporter or representative
who may write, and which of them wrote a message for its author participant

Revision ID: 0011_on_behalf
Revises: 0010_teams
Create Date: 2026-12-02 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_on_behalf"
down_revision: str | None = "0010_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, the table its foreign key names, comment)
COLUMNS = [
    ("case_supporters", "case_public_grant_sender_id", "accounts", None),
    (
        "messages",
        "written_by_supporter_id",
        "case_supporters",
        "written on the participant's behalf by them",
    ),
]


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # Plain columns on SQLite, foreign keys as constraints on PostgreSQL (0010 says why).
    op.add_column("case_supporters", sa.Column("case_public_grant", sa.LargeBinary()))
    for table, column, target, comment in COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=36), comment=comment))
        if _on_postgresql():
            op.create_foreign_key(f"fk_{table}_{column}", table, target, [column], ["id"])


def downgrade() -> None:
    for table, column, _target, _comment in reversed(COLUMNS):
        if _on_postgresql():
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("ALTER TABLE case_supporters DROP COLUMN case_public_grant")
