"""handling and replies: competitor brands, catalog settings for the dashboard, reply workflow

Revision ID: 0004_i15b
Revises: 0003_i13b
Create Date: 2026-12-06

Additive only: ``brands.kind`` (nullable: NULL is an own brand), ``catalog_settings``
(sections of the catalog the dashboard reads: deadlines and reply templates) and
``mention_replies`` (status, who replied, when, per mention).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from storage.models import UtcDateTime

revision = '0004_i15b'
down_revision = '0003_i13b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('brands') as batch:
        batch.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table(
        'catalog_settings',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'mention_replies',
        sa.Column('mention_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('replied_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("replied_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id']),
        sa.PrimaryKeyConstraint('mention_id'),
    )


def downgrade() -> None:
    op.drop_table('mention_replies')
    op.drop_table('catalog_settings')
    with op.batch_alter_table('brands') as batch:
        batch.drop_column('kind')
