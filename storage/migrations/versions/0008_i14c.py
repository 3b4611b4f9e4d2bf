"""job_runs: owner and heartbeat, so a killed job's row can be closed

Revision ID: 0008_i14c
Revises: 0007_i14c
Create Date: 2026-12-07

Additive only: three nullable columns on job_runs (host, pid, heartbeat_at). Rows
written before have none; the next run of their job judges them by started_at.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from storage.models import UtcDateTime

revision = '0008_i14c'
down_revision = '0007_i14c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('pid')
        batch_op.drop_column('host')
