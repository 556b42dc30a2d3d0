"""an agreement item's due day first agreed, kept when a new one is agreed
(``agreement_items.first_due_on``)

Revision ID: 0029_agreement_first_due
Revises: 0028_grants_owed_index
Create Date: 2026-12-03 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_agreement_first_due"
down_revision: str | None = "0028_grants_owed_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_items") as batch:
        batch.add_column(
            sa.Column(
                "first_due_on",
                sa.Date(),
                nullable=True,
                comment="the due day first agreed, once another was agreed; none: never moved",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_items") as batch:
        batch.drop_column("first_due_on")
