"""scheduler_locks: one scheduler per database

Revision ID: 0007_i14c
Revises: 0006_i16c
Create Date: 2026-12-07

Additive only: a new table holding the lock that lets exactly one `tingfeng run` run
jobs (holder id, host, pid, acquired/heartbeat/expiry times).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from storage.models import UtcDateTime

revision = '0007_i14c'
down_revision = '0006_i16c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scheduler_locks',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('holder_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('host', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('acquired_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('scheduler_locks')
