"""The per-run context app.py hands to the page being shown.

``app.py`` builds it once per script run (settings, database URL, the viewer's access,
the global filters) and puts it in ``st.session_state``; pages read it with
:func:`current`. Nothing here is a module-level mutable global.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.access import Access
from dashboard.labels import PLATFORMS, TOUCHPOINTS, label
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

    def short(self, kind: str, key: str | None) -> str:
        """The display name without its brand's name in front (青禾茶事 静安寺店 → 静安寺店),
        for charts and tables where every row would repeat it."""
        name = self.name(kind, key)
        for brand in sorted(self.names.get("brands", {}).values(), key=len, reverse=True):
            if brand and name.startswith(brand) and name[len(brand):].strip():
                return name[len(brand):].strip(" ·-—")
        return name

    def scope_name(self, scope_type: str, scope_id: str, short: bool = False) -> str:
        """What an alert or rollup scope is about, by name (门店 · 产品 for a store × product);
        ``short``: store names without the brand's in front."""
        kinds = {"store": "stores", "product": "products", "brand": "brands", "region": "regions"}
        store = self.short if short else self.name
        if scope_type == "store":
            return store("stores", scope_id)
        if scope_type in kinds:
            return self.name(kinds[scope_type], scope_id)
        parts = str(scope_id).split("|")
        if scope_type in ("store_product", "store_touchpoint") and len(parts) == 2:
            second = self.name("products", parts[1]) if scope_type == "store_product" else label(TOUCHPOINTS, parts[1])
            return f"{store('stores', parts[0])} · {second}"
        if scope_type in ("touchpoint", "platform"):
            return label(TOUCHPOINTS if scope_type == "touchpoint" else PLATFORMS, scope_id)
        return f"数据源 {self.name('sources', scope_id)}" if scope_type == "source" else str(scope_id)


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
