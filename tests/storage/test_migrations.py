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
