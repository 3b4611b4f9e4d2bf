"""score queue: a pending-work index for the scoring stage, filled by a trigger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Before this, a mention was pending while it had no ``mention_analysis`` row, and every
scoring claim anti-joined the two tables: about 2 s per claim on PostgreSQL once a
million mentions were scored. ``score_queue`` holds only what is pending; an
``AFTER INSERT`` trigger on ``mentions`` fills it (statement-level with a transition
table on PostgreSQL, so a bulk ``INSERT … SELECT`` adds one statement, not one per row),
and the mentions already waiting are copied in.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION tingfeng_enqueue_scoring() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO score_queue (mention_id) SELECT id FROM inserted_mentions;
    RETURN NULL;
END $$
"""
_PG_TRIGGER = """
CREATE TRIGGER mentions_enqueue_scoring AFTER INSERT ON mentions
REFERENCING NEW TABLE AS inserted_mentions
FOR EACH STATEMENT EXECUTE FUNCTION tingfeng_enqueue_scoring()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER mentions_enqueue_scoring AFTER INSERT ON mentions
BEGIN
    INSERT INTO score_queue (mention_id) VALUES (NEW.id);
END
"""


def upgrade() -> None:
    op.create_table('score_queue',
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mention_id')
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)
    op.execute("INSERT INTO score_queue (mention_id) SELECT m.id FROM mentions m "
               "WHERE NOT EXISTS (SELECT 1 FROM mention_analysis a WHERE a.mention_id = m.id)")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS mentions_enqueue_scoring" +
               (" ON mentions" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tingfeng_enqueue_scoring()")
    op.drop_table('score_queue')
