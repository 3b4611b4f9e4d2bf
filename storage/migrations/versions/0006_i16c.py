"""data protection: mentions.pruned_at (retention) and the audit_log table

Revision ID: 0006_i16c
Revises: 0005_i12
Create Date: 2026-12-07

Additive only: ``mentions.pruned_at`` (nullable: NULL is a mention whose raw text is still
kept) and ``audit_log`` (logins, exports, alert actions, corrections, prunes).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from storage.models import UtcDateTime

revision = '0006_i16c'
down_revision = '0005_i12'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mentions') as batch:
        batch.add_column(sa.Column('pruned_at', UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('target', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_at', 'audit_log', ['at'])
    op.create_index('ix_audit_action_at', 'audit_log', ['action', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_action_at', table_name='audit_log')
    op.drop_index('ix_audit_at', table_name='audit_log')
    op.drop_table('audit_log')
    with op.batch_alter_table('mentions') as batch:
        batch.drop_column('pruned_at')
