"""model_explanations: explanations (importance, partial dependence, per-row
contributions) stored on model versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_explanations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["model_versions.id"],
                                name=op.f("fk_model_explanations_version_id_model_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_explanations")),
    )
    with op.batch_alter_table("model_explanations", schema=None) as batch_op:
        batch_op.create_index("ix_model_explanations_version_created",
                              ["version_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("model_explanations")
