"""the staff second factor: authenticator apps, passkeys and backup codes; a session says what
is still due after the password (portal/factors/gate.py)

Live sessions of staff, who hold no factor yet, must add one before they go on.

Revision ID: 0024_second_factor
Revises: 0023_referral_triage
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_second_factor"
down_revision: str | None = "0023_referral_triage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "second_factors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "totp_secret_sealed",
            sa.LargeBinary(),
            nullable=True,
            comment="app: the TOTP secret, sealed with a key derived from the server secret",
        ),
        sa.Column(
            "totp_last_step",
            sa.Integer(),
            nullable=True,
            comment="app: the last 30-second step accepted (a code is never taken twice)",
        ),
        sa.Column("credential_id", sa.LargeBinary(), nullable=True, unique=True),
        sa.Column("credential_public_key", sa.LargeBinary(), nullable=True, comment="COSE"),
        sa.Column(
            "sign_count",
            sa.Integer(),
            nullable=True,
            comment="passkey: the authenticator's counter, checked to rise (0: none kept)",
        ),
    )
    op.create_index("ix_second_factors_account", "second_factors", ["account_id"])
    op.create_table(
        "backup_codes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "code_hash",
            sa.LargeBinary(),
            nullable=False,
            comment="keyed hash of the code; the code is shown once",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_backup_codes_account", "backup_codes", ["account_id"])
    op.create_table(
        "factor_ceremonies",
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("purpose", sa.String(32), primary_key=True),
        sa.Column(
            "payload",
            sa.LargeBinary(),
            nullable=False,
            comment="a WebAuthn challenge, or a sealed TOTP secret not yet confirmed",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column(
        "sessions",
        sa.Column(
            "second_factor_due",
            sa.String(8),
            nullable=True,
            comment="'verify': the password was proved, a second factor not yet; 'enrol': staff "
            "who must add one first; NULL: nothing due (portal/factors/gate.py)",
        ),
    )
    # Staff signed in now hold no factor: they add one before they go on.
    op.execute(
        "UPDATE sessions SET second_factor_due = 'enrol' WHERE ended_at IS NULL AND account_id IN "
        "(SELECT id FROM accounts WHERE role IN ('service_manager', 'facilitator'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE sessions DROP COLUMN second_factor_due")
    op.drop_table("factor_ceremonies")
    op.drop_index("ix_backup_codes_account", "backup_codes")
    op.drop_table("backup_codes")
    op.drop_index("ix_second_factors_account", "second_factors")
    op.drop_table("second_factors")
