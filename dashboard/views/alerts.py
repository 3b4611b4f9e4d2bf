"""预警 Alerts: open / acknowledged / resolved alerts, their evidence and mentions; act on them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import actions, cache, ui
from dashboard.context import current
from dashboard.labels import ALERT_KIND, ALERT_STATUS, SEVERITY, label
from dashboard.queries import evidence_mention_ids

SEVERITY_ICON = {"critical": ":red[:material/error:]", "warning": ":orange[:material/warning:]",
                 "info": ":blue[:material/info:]"}
VIEWS = {"未关闭": ("open", "acknowledged"), "待处理": ("open",), "已确认": ("acknowledged",),
         "已解决": ("resolved",), "全部": ()}

ctx = current()
st.title("预警")

flash = st.session_state.pop("alert_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])

token = st.query_params.get("token")
if token:
    claim, why = actions.verify_link(ctx, token)
    if claim is None:
        st.error(why)
    else:
        verb = actions.ACTION_LABELS.get(claim.action, claim.action)
        with st.container(border=True):
            st.markdown(f"**来自邮件的操作：{verb}预警 #{claim.alert_id}**")
            link_note = st.text_input("备注（可选）", key="link_note")
            if st.button(f"{verb}预警 #{claim.alert_id}", type="primary", key="link_do"):
                ok, msg = actions.perform(ctx, claim.alert_id, claim.action, link_note,
                                          by=claim.recipient_id if ctx.settings.auth == "none" else None)
                st.session_state["alert_flash"] = (ok, msg)
                for k in ("action", "token"):
                    st.query_params.pop(k, None)
                st.rerun()

c1, c2 = st.columns([3, 2])
view = c1.segmented_control("状态", list(VIEWS), default="未关闭", key="al_view") or "未关闭"
severities = c2.multiselect("级别", list(SEVERITY), format_func=SEVERITY.get, key="al_sev", placeholder="全部")
table = cache.q(ctx.db_url, "alerts_table", ctx.scope, VIEWS[view], tuple(severities))
if table.empty:
    st.info("没有符合条件的预警。" if view != "未关闭" else "目前没有待处理的预警。")
    st.stop()

shown = table.head(30).to_dict("records")
st.caption(f"{len(table)} 条预警（显示最新 {len(shown)} 条，展开查看证据和相关提及）")
evidence = cache.q(ctx.db_url, "alerts_mentions", ctx.scope,
                   tuple((int(a["id"]), tuple(evidence_mention_ids(a["evidence"]))) for a in shown))
for alert in shown:
    icon = SEVERITY_ICON.get(alert["severity"], ":material/circle:")
    opened = pd.Timestamp(alert["opened_at"]).tz_convert(ctx.scope.tz).strftime("%m-%d %H:%M")
    head = (f"{icon} {label(SEVERITY, alert['severity'])} · {label(ALERT_STATUS, alert['status'])} · "
            f"{ui.md_escape(alert['title'])} · {opened}")
    with st.expander(head):
        scope_name = alert["scope_id"]
        if alert["scope_type"] == "store":
            scope_name = ctx.name("stores", alert["scope_id"])
        st.markdown(f"**类型**：{label(ALERT_KIND, alert['kind'])}　**范围**：{ui.md_escape(scope_name)}　"
                    f"**编号**：#{alert['id']}")
        if alert["reason"]:
            st.markdown(f"**原因**：{ui.md_escape(alert['reason'])}")
        if alert["acknowledged_by"]:
            st.caption(f"由 {alert['acknowledged_by']} 确认")
        if alert["resolved_by"]:
            st.caption(f"由 {alert['resolved_by']} 解决")
        if alert["note"]:
            st.text(f"备注：{alert['note']}")
        numbers = {k: v for k, v in (alert["evidence"] or {}).items() if k not in ("mention_ids", "mentions")}
        if numbers:
            st.json(numbers, expanded=False)
        mentions = evidence[evidence["alert_id"] == alert["id"]]
        if mentions.empty and not evidence_mention_ids(alert["evidence"]):
            mentions = cache.q(ctx.db_url, "alert_mentions", ctx.scope, alert)  # no ids: the alert's window
        if not mentions.empty:
            ui.mentions_table(ctx, mentions)
        if alert["status"] != "resolved":
            note = st.text_input("处理备注", key=f"note_{alert['id']}", placeholder="例如：已联系门店，更换外卖包装")
            b1, b2, _ = st.columns([1, 1, 4])
            if alert["status"] == "open" and ctx.access.can_acknowledge and b1.button("确认", key=f"ack_{alert['id']}"):
                st.session_state["alert_flash"] = actions.perform(ctx, int(alert["id"]), "ack", note)
                st.rerun()
            if ctx.access.can_resolve and b2.button("解决", key=f"resolve_{alert['id']}", type="primary"):
                st.session_state["alert_flash"] = actions.perform(ctx, int(alert["id"]), "resolve", note)
                st.rerun()
