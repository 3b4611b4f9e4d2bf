"""The local login's session cookie: a reload, a new tab or an e-mail link keeps the login.

The cookie holds ``username`` and a fingerprint of the account's password hash, signed
with ``TINGFENG_SECRET_KEY`` and time-stamped (itsdangerous); it is refused after
``TINGFENG_SESSION_MAX_AGE`` seconds, when the password changes, or when the account is
removed. Streamlit reads request cookies (``st.context.cookies``) but offers no way to
send ``Set-Cookie``, so the browser writes it from a zero-height component: it cannot be
HttpOnly. It is ``SameSite=Strict``, ``Secure`` on https, scoped to ``/`` and expires
with the signature. Every text the dashboard shows from outside is escaped, which is
what keeps scripts from reading it.
"""

from __future__ import annotations

import json

import streamlit as st
import streamlit.components.v1 as components
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "tingfeng_session"
_SALT = "tingfeng.dashboard.session"


def sign(secret: str, username: str, fingerprint: str) -> str:
    """A session token for ``username`` (URL-safe, time-stamped)."""
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps({"u": username, "f": fingerprint})


def verify(secret: str, token: str, max_age: int) -> tuple[str, str] | None:
    """``(username, fingerprint)`` of a valid, unexpired token; None otherwise."""
    try:
        claim = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(claim, dict) or not isinstance(claim.get("u"), str) or not isinstance(claim.get("f"), str):
        return None
    return claim["u"], claim["f"]


def cookie_token() -> str | None:
    """The session token the browser sent with this session's connection, if any."""
    return st.context.cookies.get(COOKIE)


def write_cookie(token: str | None, max_age: int) -> None:
    """Make the browser store ``token`` (None: delete the cookie)."""
    value = json.dumps(token or "")
    age = max_age if token else 0
    components.html(
        "<script>const s=location.protocol==='https:'?'; Secure':'';"
        f"parent.document.cookie='{COOKIE}='+encodeURIComponent({value})+'; Path=/; Max-Age={int(age)}; "
        "SameSite=Strict'+s;</script>",
        height=0,
    )
