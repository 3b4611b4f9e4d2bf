"""The per-run context app.py hands to the page being shown.

``app.py`` builds it once per script run (settings, database URL, the viewer's access,
the global filters) and puts it in ``st.session_state``; pages read it with
:func:`current`. Nothing here is a module-level mutable global.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.access import Access
from dashboard.scope import Scope
from dashboard.settings import DashboardSettings

_KEY = "_tingfeng_context"


@dataclass(frozen=True)
class Context:
    """What a page needs: settings, the database URL, who is looking and the filters."""

    settings: DashboardSettings
    db_url: str
    access: Access
    scope: Scope
    names: dict[str, dict[str, str]]  # kind -> id -> display name (stores, products, brands, regions)

    def name(self, kind: str, key: str | None) -> str:
        """Display name of a catalog id (the id itself when unknown, — for none)."""
        if key is None or key != key:  # None or NaN
            return "—"
        return self.names.get(kind, {}).get(key, key)


def publish(ctx: Context) -> None:
    """Make ``ctx`` the context of this run."""
    st.session_state[_KEY] = ctx


def current() -> Context:
    """The context app.py published for this run (pages are only run through app.py)."""
    ctx = st.session_state.get(_KEY)
    if ctx is None:
        st.error("请通过 `tingfeng dashboard` 启动看板（入口是 dashboard/app.py）。")
        st.stop()
    return ctx
