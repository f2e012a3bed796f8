"""delegated_tokens: short-lived API tokens the server issues to code it runs on a
user's behalf (schedule firings, retraining, kernels of a team server)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegated_tokens",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column("user", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_delegated_tokens_expires_at", "delegated_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_delegated_tokens_expires_at", table_name="delegated_tokens")
    op.drop_table("delegated_tokens")
