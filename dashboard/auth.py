"""The login gate: none (localhost only), local accounts, or OIDC through ``st.login``."""

from __future__ import annotations

import streamlit as st

from dashboard import audit, session
from dashboard.access import Access, local_admin
from dashboard.queries import access_for_account, access_for_email, access_for_session, account_fingerprint
from dashboard.labels import ROLES, label
from dashboard.settings import DashboardSettings
from storage import Database

_SESSION_KEY = "_tingfeng_access"
_COOKIE_TO_WRITE = "_tingfeng_cookie"  # a new session token (or "" to delete it) for the browser
_LOGGED_OUT = "_tingfeng_logged_out"
_OIDC_LOGGED = "_tingfeng_oidc_logged"


def _from_cookie(db: Database, settings: DashboardSettings) -> Access | None:
    """The access of a valid session cookie sent with this connection."""
    token = session.cookie_token()
    claim = session.verify(settings.signing.value, token, settings.session_max_age) if token else None
    return access_for_session(db, *claim) if claim else None


def _local_login(db: Database, settings: DashboardSettings) -> Access:
    pending = st.session_state.pop(_COOKIE_TO_WRITE, None)
    if pending is not None:
        session.write_cookie(pending or None, settings.session_max_age)
    access = st.session_state.get(_SESSION_KEY)
    if access is not None:
        return access
    if not st.session_state.get(_LOGGED_OUT):  # a reload, a new tab, an e-mail link: the cookie
        access = _from_cookie(db, settings)
        if access is not None:
            st.session_state[_SESSION_KEY] = access
            return access
    st.title("听风 · 登录")
    with st.form("login"):
        username = st.text_input("用户名", key="login_user")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        access = access_for_account(db, username.strip(), password)
        if access is not None:
            audit.login(db, access, "local")
            st.session_state[_SESSION_KEY] = access
            st.session_state.pop(_LOGGED_OUT, None)
            st.session_state[_COOKIE_TO_WRITE] = session.sign(
                settings.signing.value, access.user, account_fingerprint(db, access.user) or "")
            st.rerun()
        audit.login_failed(db, username.strip())
        st.error("用户名或密码不正确。")
    st.stop()


def _oidc_login(db: Database, settings: DashboardSettings) -> Access:
    if not st.user.is_logged_in:
        st.title("听风 · 登录")
        st.write("请使用公司统一身份登录。")
        if st.button("单点登录 (SSO)", type="primary", key="sso_login"):
            try:
                st.login()
            except Exception as exc:  # noqa: BLE001 - st.login raises plain errors on bad config
                st.error(f"单点登录配置有误：{exc}。请检查 .streamlit/secrets.toml 的 [auth] 段。")
        st.stop()
    access = access_for_email(db, st.user.get("email"), settings.admin_emails)
    if access is None:
        st.error(f"账号 {st.user.get('email') or ''} 尚未授权访问看板，请联系管理员添加到 recipients。")
        if st.button("退出登录", key="oidc_logout_denied"):
            st.logout()
        st.stop()
    if not st.session_state.get(_OIDC_LOGGED):  # once per browser session, not on every rerun
        audit.login(db, access, "oidc")
        st.session_state[_OIDC_LOGGED] = True
    return access


def gate(settings: DashboardSettings, db: Database) -> Access:
    """Return the viewer's access, rendering the login screen (and stopping) when needed."""
    if settings.auth == "none":
        return local_admin()
    if settings.auth == "local":
        return _local_login(db, settings)
    return _oidc_login(db, settings)


def sidebar_identity(settings: DashboardSettings, access: Access) -> None:
    """Who is logged in (and a logout button), or the localhost-only notice."""
    if settings.auth == "none":
        st.sidebar.warning("未配置登录：看板仅监听本机 127.0.0.1，不要对外开放。"
                           "如需多人访问，请设置 TINGFENG_AUTH=local 或 oidc。")
        return
    st.sidebar.text(f"{access.user} · {label(ROLES, access.role)}")  # plain text: no auto-linking
    if st.sidebar.button("退出登录", key="logout"):
        if settings.auth == "local":
            st.session_state.pop(_SESSION_KEY, None)
            st.session_state[_LOGGED_OUT] = True  # the cookie still sent with this connection no longer counts
            st.session_state[_COOKIE_TO_WRITE] = ""
            st.rerun()
        else:
            st.logout()
