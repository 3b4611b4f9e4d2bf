"""Fixtures for the dashboard tests: a seeded database and an AppTest factory."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from storage import Database
from tests.dashboard.seed import seed

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def seeded(db: Database) -> tuple[Database, dict]:
    """The ``db`` fixture (each backend) filled by :func:`tests.dashboard.seed.seed`."""
    return db, seed(db)


@pytest.fixture
def seeded_sqlite(sqlite_db: Database) -> tuple[Database, dict]:
    """The seeded data on SQLite only, for UI tests whose backend does not matter."""
    return sqlite_db, seed(sqlite_db)


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Build an AppTest of ``dashboard/app.py`` against a database and login mode."""

    def factory(db: Database, auth: str = "none", **env: str) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
        monkeypatch.setenv("TINGFENG_AUTH", auth)
        monkeypatch.setenv("TINGFENG_SECRET_KEY", "test-secret")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        st.cache_data.clear()
        st.cache_resource.clear()
        return AppTest.from_file(str(APP), default_timeout=30)

    yield factory
    st.cache_data.clear()
    st.cache_resource.clear()
