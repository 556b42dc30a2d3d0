"""keys that change: each content grant keeps the sender's box public key as it was when the
grant was made, so that a grant made before its sender was given a new key pair still opens
(a box needs the sender's public key of its day)

Revision ID: 0013_rekey
Revises: 0012_supporter_requests
Create Date: 2026-12-02 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_rekey"
down_revision: str | None = "0012_supporter_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENT = "the sender's box public key when the grant was made (NULL: made before 0012)"


def upgrade() -> None:
    op.add_column(
        "content_grants", sa.Column("sender_public_key", sa.LargeBinary(), comment=COMMENT)
    )


def downgrade() -> None:
    op.execute("ALTER TABLE content_grants DROP COLUMN sender_public_key")
