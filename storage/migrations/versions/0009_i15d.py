"""sources.name: a display name for each source

Revision ID: 0009_i15d
Revises: 0008_i14c
Create Date: 2026-12-07

Additive only: a nullable column; the next catalog sync fills it (the dashboard falls back to
a name from the platform until then).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0009_i15d'
down_revision = '0008_i14c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.drop_column('name')
