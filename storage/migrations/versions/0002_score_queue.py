"""score queue: a pending-work index for the scoring stage, filled by a trigger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Before this, a mention was pending while it had no ``mention_analysis`` row, and every
scoring claim anti-joined the two tables: about 2 s per claim on PostgreSQL once a
million mentions were scored. ``score_queue`` holds only what is pending; an
``AFTER INSERT`` trigger on ``mentions`` fills it (statement-level with a transition
table on PostgreSQL, so a bulk ``INSERT … SELECT`` adds one statement, not one per row),
an ``AFTER DELETE`` trigger removes the row of a deleted mention, and the mentions
already waiting are copied in. No foreign key: the triggers keep the tables consistent,
and a key check per stored mention cost the SQLite CSV import a few per cent.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_PG = [
    """CREATE FUNCTION tingfeng_enqueue_scoring() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO score_queue (mention_id) SELECT id FROM inserted_mentions;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mentions_enqueue_scoring AFTER INSERT ON mentions
    REFERENCING NEW TABLE AS inserted_mentions
    FOR EACH STATEMENT EXECUTE FUNCTION tingfeng_enqueue_scoring()""",
    """CREATE FUNCTION tingfeng_dequeue_scoring() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM score_queue q USING deleted_mentions d WHERE q.mention_id = d.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mentions_dequeue_scoring AFTER DELETE ON mentions
    REFERENCING OLD TABLE AS deleted_mentions
    FOR EACH STATEMENT EXECUTE FUNCTION tingfeng_dequeue_scoring()""",
]
_SQLITE = [
    """CREATE TRIGGER mentions_enqueue_scoring AFTER INSERT ON mentions
    BEGIN
        INSERT INTO score_queue (mention_id) VALUES (NEW.id);
    END""",
    """CREATE TRIGGER mentions_dequeue_scoring AFTER DELETE ON mentions
    BEGIN
        DELETE FROM score_queue WHERE mention_id = OLD.id;
    END""",
]


def upgrade() -> None:
    op.create_table('score_queue',
    sa.Column('mention_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('mention_id')
    )
    for statement in _PG if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)
    op.execute("INSERT INTO score_queue (mention_id) SELECT m.id FROM mentions m "
               "WHERE NOT EXISTS (SELECT 1 FROM mention_analysis a WHERE a.mention_id = m.id)")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for name in ("enqueue", "dequeue"):
        op.execute(f"DROP TRIGGER IF EXISTS mentions_{name}_scoring" + (" ON mentions" if pg else ""))
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS tingfeng_{name}_scoring()")
    op.drop_table('score_queue')
