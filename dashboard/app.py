"""听风 dashboard entry point: ``streamlit run dashboard/app.py`` (via ``tingfeng dashboard``).

Builds the settings once, checks the database, runs the login gate, renders the global
filter bar and hands a :class:`dashboard.context.Context` to the selected page.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import streamlit as st
from streamlit import config as st_config

if __package__ in (None, ""):  # `streamlit run dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import cache  # noqa: E402
from dashboard.auth import gate, sidebar_identity  # noqa: E402
from dashboard.context import Context, publish  # noqa: E402
from dashboard.filters import filter_bar  # noqa: E402
from dashboard.scope import Scope  # noqa: E402
from dashboard.settings import DashboardSettings, signing_key_warning  # noqa: E402
from storage import DatabaseNotMigrated, DatabaseUnavailable  # noqa: E402
from storage.errors import SigningKeyError  # noqa: E402

# not "pages/": Streamlit treats a pages/ folder next to the entry script as a v1
# multipage app and runs those files directly, bypassing this script and its login gate
PAGES_DIR = Path(__file__).parent / "views"


@st.cache_resource(show_spinner=False)
def load_settings() -> DashboardSettings:
    """The settings, read from the environment once per process."""
    return DashboardSettings()


@st.cache_data(ttl=60, show_spinner=False)
def _database_problem(url: str) -> str | None:
    """Why the database cannot be used (None when it is reachable and migrated); checked once a minute."""
    try:
        cache.database(url).require_migrated()
    except DatabaseUnavailable as exc:
        return f"无法连接数据库：{exc}\n\n请检查 `DATABASE_URL`。"
    except DatabaseNotMigrated as exc:
        return f"数据库尚未初始化或版本过旧：{exc}"
    return None


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _refuse_open_bind(settings: DashboardSettings) -> None:
    """Without login the app must only listen on loopback; refuse to serve data otherwise."""
    if settings.auth != "none" or st_config.get_option("global.appTest"):  # AppTest patches config.get_option
        return
    address = st_config.get_option("server.address")
    if address not in LOOPBACK:
        st.error(f"未配置登录（TINGFENG_AUTH=none），看板只能监听本机地址，但当前监听 `{address or '所有网卡'}`。"
                 "请用 `tingfeng dashboard` 启动（--server.address 127.0.0.1），或设置 TINGFENG_AUTH=local / oidc。")
        st.stop()


def main() -> None:
    """Render one run of the app."""
    st.set_page_config(page_title="听风 · 舆情看板", page_icon=":material/hearing:", layout="wide")
    settings = load_settings()
    _refuse_open_bind(settings)
    pages = [
        st.Page(PAGES_DIR / "overview.py", title="总览", icon=":material/dashboard:", default=True),
        st.Page(PAGES_DIR / "stores.py", title="门店", icon=":material/storefront:", url_path="stores"),
        st.Page(PAGES_DIR / "products.py", title="产品", icon=":material/local_cafe:", url_path="products"),
        st.Page(PAGES_DIR / "mentions.py", title="声量明细", icon=":material/forum:", url_path="mentions"),
        st.Page(PAGES_DIR / "alerts.py", title="预警", icon=":material/notifications_active:", url_path="alerts"),
        st.Page(PAGES_DIR / "handling.py", title="处理与回复", icon=":material/task_alt:", url_path="handling"),
        st.Page(PAGES_DIR / "touchpoints.py", title="触点趋势", icon=":material/timeline:", url_path="touchpoints"),
        st.Page(PAGES_DIR / "benchmark.py", title="竞品对比", icon=":material/compare_arrows:", url_path="benchmark"),
        st.Page(PAGES_DIR / "sources.py", title="数据源", icon=":material/rss_feed:", url_path="sources"),
        st.Page(PAGES_DIR / "models.py", title="模型", icon=":material/psychology:", url_path="models"),
        # admins only: the page refuses anyone else and the query returns nothing to them
        st.Page(PAGES_DIR / "audit.py", title="审计日志", icon=":material/policy:", url_path="audit"),
    ]
    page = st.navigation(pages)
    problem = _database_problem(settings.db_url)
    if problem:
        st.error(problem)
        st.stop()
    db = cache.database(settings.db_url)
    try:
        key_warning = signing_key_warning(settings.signing)
    except SigningKeyError as exc:
        st.error(f"签名密钥不可用：{exc}")
        st.stop()
    access = gate(settings, db)
    if key_warning and (settings.signing.is_public or not access.restricted):
        st.warning(key_warning, icon=":material/key:")
    st.sidebar.title("听风 · 舆情看板")
    sidebar_identity(settings, access)
    options = cache.q(settings.db_url, "filter_options", access)
    last_day = cache.q(settings.db_url, "latest_day", settings.timezone) or date.today()
    filters = filter_bar(options, last_day)
    names = {kind: dict(options.get(kind, [])) for kind in ("brands", "regions", "stores", "products", "sources")}
    publish(Context(settings=settings, db_url=settings.db_url, access=access,
                    scope=Scope(filters, access, settings.timezone), names=names))
    page.run()


main()
