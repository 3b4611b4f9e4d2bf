"""Schema migrations on every backend, and the refusal to run un-migrated."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from storage import Database, DatabaseNotMigrated, make_url_for_path
from storage.migrations.scope import include_name


def test_migrated_schema_matches_models(db: Database) -> None:
    """Upgrading to head yields exactly the tables the models declare (no drift)."""
    assert db.current_revision() == db.head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False, "include_name": include_name}), SQLModel.metadata)
    assert diff == []
    db.require_migrated()


def test_unmigrated_database_is_refused(tmp_path) -> None:
    db = Database(make_url_for_path(tmp_path / "empty.db"))
    with pytest.raises(DatabaseNotMigrated, match="tingfeng db upgrade"):
        db.require_migrated()


def test_upgrade_is_idempotent_and_creates_sqlite_file(tmp_path) -> None:
    path = tmp_path / "nested" / "t.db"
    db = Database(make_url_for_path(path))
    db.upgrade()
    db.upgrade()
    assert path.exists()
    names = set(sa.inspect(db.engine).get_table_names())
    assert {"mentions", "mention_analysis", "rollups", "alerts", "notifications"} <= names
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_utc_round_trip(db: Database) -> None:
    from datetime import datetime, timedelta, timezone

    from storage.models import Mention

    shanghai = timezone(timedelta(hours=8))
    local = datetime(2026, 11, 20, 12, 30, tzinfo=shanghai)
    with db.session() as s:
        s.add(Mention(source_id="s", external_id="1", text="好喝", published_at=local, collected_at=local, content_hash="h"))
    with db.session() as s:
        m = s.exec(sa.select(Mention)).scalars().one()
    assert m.published_at == local and m.published_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_rejected(db: Database) -> None:
    from datetime import datetime

    from storage.models import Mention

    with pytest.raises(Exception, match="naive datetime"):
        with db.session() as s:
            s.add(Mention(source_id="s", external_id="1", text="x", published_at=datetime(2026, 1, 1),
                          collected_at=datetime(2026, 1, 1), content_hash="h"))
            s.flush()


def test_upgrade_queues_the_mentions_left_unscored(db: Database, tmp_path) -> None:
    """Migration 0002 copies what was pending before the queue existed (no analysis row)
    into ``score_queue``, and from then on the trigger queues every insert."""
    from datetime import datetime, timezone

    from storage.models import Mention, MentionAnalysis, ScoreQueue

    fresh = _fresh_database(db, tmp_path)
    try:
        fresh.upgrade("0001")
        now = datetime(2026, 11, 22, tzinfo=timezone.utc)
        with fresh.engine.begin() as conn:
            conn.execute(Mention.__table__.insert(), [
                {"id": i, "source_id": "s", "external_id": str(i), "platform": "", "kind": "post", "text": "好喝",
                 "published_at": now, "collected_at": now, "content_hash": str(i), "extra": {}} for i in (1, 2, 3)])
            conn.execute(MentionAnalysis.__table__.insert(), {
                "mention_id": 2, "published_at": now, "platform": "", "link_confidence": 0.0, "links": [],
                "model": "m", "model_version": "1", "score": 0.9, "label": "positive", "urgent": False,
                "urgent_terms": [], "keywords": [], "counted": True, "scored_at": now})
        fresh.upgrade()
        with fresh.engine.begin() as conn:
            assert sorted(conn.execute(sa.select(ScoreQueue.mention_id)).scalars()) == [1, 3]
            conn.execute(Mention.__table__.insert(), {
                "id": 4, "source_id": "s", "external_id": "4", "platform": "", "kind": "post", "text": "好喝",
                "published_at": now, "collected_at": now, "content_hash": "4", "extra": {}})
            assert sorted(conn.execute(sa.select(ScoreQueue.mention_id)).scalars()) == [1, 3, 4]
    finally:
        _drop_database(fresh)


def _fresh_database(db: Database, tmp_path) -> Database:
    """An empty, never-migrated database on ``db``'s backend."""
    if db.dialect == "sqlite":
        return Database(make_url_for_path(tmp_path / "fresh.db"))
    import uuid

    url = sa.engine.make_url(db.url).set(database=f"tingfeng_fresh_{uuid.uuid4().hex[:8]}")
    with sa.create_engine(db.url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    return Database(url.render_as_string(hide_password=False))


def _drop_database(fresh: Database) -> None:
    fresh.dispose()
    if fresh.dialect == "postgresql":
        name = sa.engine.make_url(fresh.url).database
        admin = sa.engine.make_url(fresh.url).set(database="postgres")
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def test_deleting_a_mention_takes_it_out_of_the_score_queue(db: Database) -> None:
    from datetime import datetime, timezone

    from storage.models import Mention, ScoreQueue

    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    with db.session() as s:
        for i in (1, 2):
            s.add(Mention(source_id="s", external_id=str(i), text="好喝", published_at=now, collected_at=now,
                          content_hash=str(i)))
    with db.session() as s:
        s.execute(sa.delete(Mention).where(Mention.external_id == "1"))
    with db.session() as s:
        left = s.exec(sa.select(Mention.id)).scalars().all()
        assert s.exec(sa.select(ScoreQueue.mention_id)).scalars().all() == left and len(left) == 1
