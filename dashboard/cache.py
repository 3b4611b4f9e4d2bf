"""A thin cached wrapper around :mod:`dashboard.queries` for the page layer.

Queries stay plain functions; here each call is keyed by (database URL, function name,
arguments) and kept for ``TTL_SECONDS``. The database handle is a cached resource per URL.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import queries
from storage import Database

TTL_SECONDS = 60


@st.cache_resource(show_spinner=False)
def database(url: str) -> Database:
    """One :class:`storage.Database` (engine + pool) per URL per process."""
    return Database(url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=1000)
def _call(url: str, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    return getattr(queries, name)(database(url), *args, **dict(kwargs))


def q(db_url: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """``queries.<name>(db, *args, **kwargs)``, cached for ``TTL_SECONDS``."""
    return _call(db_url, name, args, tuple(sorted(kwargs.items())))


def invalidate() -> None:
    """Drop every cached query result (after a write such as acknowledging an alert)."""
    _call.clear()
