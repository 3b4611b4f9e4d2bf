"""审计日志 Audit log (admins only): logins, exports, alert actions, corrections, replies, prunes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import cache
from dashboard.context import current
from dashboard.labels import AUDIT_ACTIONS, label

ctx = current()
st.title("审计日志")
if ctx.access.role != "admin":  # app.py only offers this page to admins; a direct URL still stops here
    st.error("只有管理员可以查看审计日志。")
    st.stop()
st.caption("登录、导出、预警确认/解决、标注更正、回复状态和数据保留清理，谁在何时对什么做了什么（最新在前，最多 500 条）。")
actions = st.multiselect("操作", list(AUDIT_ACTIONS), format_func=AUDIT_ACTIONS.get, key="au_actions",
                         placeholder="全部")
events = cache.q(ctx.db_url, "audit_events", ctx.access, tuple(actions))
if events.empty:
    st.info("还没有审计记录。")
    st.stop()
st.dataframe(
    events.assign(
        at=events["at"].map(lambda t: t.astimezone(ZoneInfo(ctx.scope.tz)).strftime("%Y-%m-%d %H:%M:%S")),
        action=events["action"].map(lambda a: label(AUDIT_ACTIONS, a)),
        detail=events["detail"].map(lambda d: "；".join(f"{k}: {v}" for k, v in (d or {}).items() if v is not None)),
    ).rename(columns={"at": "时间", "actor": "操作人", "action": "操作", "target": "对象", "scope": "范围",
                      "detail": "详情"}),
    hide_index=True, width="stretch", placeholder="—",
)
