"""recipients.push_warnings: opt in to pushes of warning-tier spike alerts

Revision ID: 0005_i12
Revises: 0004_i15b
Create Date: 2026-12-06

Warnings are watch items (dashboard, digest) and are pushed only to recipients who ask
for them; nullable so existing rows read as "no" (critical and urgent alerts are always
pushed).
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_i12'
down_revision = '0004_i15b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("push_warnings", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("push_warnings")
