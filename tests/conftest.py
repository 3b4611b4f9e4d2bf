"""Shared fixtures.

``db`` is a migrated, empty :class:`storage.Database`, run once per backend: SQLite
always, PostgreSQL when ``TINGFENG_TEST_PG`` names a server URL (``.ci/run`` starts
one and sets it). Like APScheduler's suite, every storage-touching test runs against
every backend.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from storage import Database, make_url_for_path

PG_URL = os.environ.get("TINGFENG_TEST_PG", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(make_url_for_path(path))
    db.upgrade()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_database() -> Database | None:
    if not PG_URL:
        return None
    name = f"tingfeng_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(Database(PG_URL).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(Database(PG_URL).url).set(database=name)
    db = Database(url.render_as_string(hide_password=False))
    db.upgrade()
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _truncate_pg(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A migrated empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "tingfeng.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        database = Database(make_url_for_path(path))
        yield database
        database.dispose()
    else:
        database = request.getfixturevalue("_pg_database")
        _truncate_pg(database)
        yield database
        database.engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, _sqlite_template: Path) -> Database:
    """A migrated empty SQLite database, for tests about the embedded mode only."""
    path = tmp_path / "tingfeng.db"
    shutil.copy(_sqlite_template, path)
    database = Database(make_url_for_path(path))
    yield database
    database.dispose()
