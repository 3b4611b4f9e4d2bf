"""model registry and mention corrections (learning from the chain's own data)

Revision ID: 0003_i13b
Revises: 0002
Create Date: 2026-12-06

Two new tables, nothing else changes: ``model_registry`` (each sentiment model version
with its measured figures and when it was promoted) and ``mention_corrections`` (who
changed which label of a mention, from what to what).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = '0003_i13b'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('model_registry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('artifact_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('promoted_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', 'version', name='uq_model_registry_name_version')
    )
    op.create_table('mention_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('touchpoint', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('old_label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('new_label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('corrected_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('corrected_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mention_corrections', schema=None) as batch_op:
        batch_op.create_index('ix_corrections_mention', ['mention_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mention_corrections', schema=None) as batch_op:
        batch_op.drop_index('ix_corrections_mention')
    op.drop_table('mention_corrections')
    op.drop_table('model_registry')
