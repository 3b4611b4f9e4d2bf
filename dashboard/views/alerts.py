"""预警 Alerts: open / acknowledged / resolved alerts, paged; one alert's evidence and mentions; act on it."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import actions, cache, ui
from dashboard.context import Context, current
from dashboard.evidence import evidence_lines
from dashboard.labels import ALERT_KIND, ALERT_STATUS, SEVERITY, label

SEVERITY_ICON = {"critical": ":red[:material/error:]", "warning": ":orange[:material/warning:]",
                 "info": ":blue[:material/info:]"}
VIEWS = {"未关闭": ("open", "acknowledged"), "待处理": ("open",), "已确认": ("acknowledged",),
         "已解决": ("resolved",), "全部": ()}


SHOWN_MENTIONS = 5


def _scope_name(ctx: Context, alert: dict) -> str:
    """What the alert is about, by name where the catalog knows it."""
    return ctx.scope_name(alert["scope_type"], alert["scope_id"])


def _detail(ctx: Context, alert: dict) -> None:
    """One alert: evidence, the mentions behind it, acknowledge / resolve with a note."""
    icon = SEVERITY_ICON.get(alert["severity"], ":material/circle:")
    opened = pd.Timestamp(alert["opened_at"]).tz_convert(ctx.scope.tz).strftime("%Y-%m-%d %H:%M")
    with st.container(border=True):
        st.markdown(f"{icon} **{ui.md_escape(alert['title'])}**　{label(SEVERITY, alert['severity'])} · "
                    f"{label(ALERT_STATUS, alert['status'])} · {opened}")
        st.markdown(f"**类型**：{label(ALERT_KIND, alert['kind'])}　**范围**：{ui.md_escape(_scope_name(ctx, alert))}　"
                    f"**编号**：#{alert['id']}")
        if alert["reason"]:
            st.markdown(f"**原因**：{ui.md_escape(alert['reason'])}")
        if alert["acknowledged_by"]:
            st.caption(f"由 {alert['acknowledged_by']} 确认")
        if alert["resolved_by"]:
            st.caption(f"由 {alert['resolved_by']} 解决")
        if alert["note"]:
            st.text(f"备注：{alert['note']}")
        for heading, text in evidence_lines(alert["evidence"]):
            st.markdown(f"**{heading}**：{ui.md_escape(text)}")
        mentions = cache.q(ctx.db_url, "alert_mentions", ctx.scope, alert)
        if mentions.empty:
            st.caption("没有可显示的相关提及。")
        else:
            st.markdown(f"**相关提及**（共 {len(mentions)} 条）")
            every = len(mentions) > SHOWN_MENTIONS and st.toggle(
                f"显示全部 {len(mentions)} 条", key=f"al_all_{alert['id']}")
            ui.mentions_table(ctx, mentions if every else mentions.head(SHOWN_MENTIONS), key=f"al_m_{alert['id']}")
        if alert["status"] == "resolved":
            return
        note = st.text_input("处理备注", key=f"note_{alert['id']}", placeholder="例如：已联系门店，更换外卖包装")
        b1, b2, _ = st.columns([1, 1, 4])
        if alert["status"] == "open" and ctx.access.can_acknowledge and b1.button("确认", key=f"ack_{alert['id']}"):
            st.session_state["alert_flash"] = actions.perform(ctx, int(alert["id"]), "ack", note)
            st.rerun()
        if ctx.access.can_resolve and b2.button("解决", key=f"resolve_{alert['id']}", type="primary"):
            st.session_state["alert_flash"] = actions.perform(ctx, int(alert["id"]), "resolve", note)
            st.rerun()


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

PAGE_SIZE = 20
# Streamlit's grid wraps text only in rows taller than 4rem (64 px): two lines, so a 40–50 character
# title is read whole instead of cut at the column edge
TITLE_ROW_HEIGHT = 66

# an e-mail's "在看板中查看" link: /alerts?alert=N opens alert N whatever the list shows
linked_id = str(st.query_params.get("alert") or "")
linked = None
if linked_id:
    linked = cache.q(ctx.db_url, "alert_for_viewer", ctx.scope, int(linked_id)) if linked_id.isdigit() else None
    if linked is None:
        st.warning(f"预警 #{linked_id} 不存在或不在您的范围内。")
    else:
        st.subheader(f"预警 #{linked['id']}")
        _detail(ctx, linked)
        st.divider()


PROMOTION_STATUS = {"running": "进行中", "upcoming": "即将开始", "ended": "已结束"}
promotions = cache.q(ctx.db_url, "promotion_calendar", ctx.scope)
if not promotions.empty:
    running = int((promotions["status"] == "running").sum())
    with st.expander(f"促销日历（{len(promotions)} 个活动" + (f"，{running} 个进行中）" if running else "）")):
        st.caption("目录（tingfeng.toml 的 [[promotions]]）登记的促销：期间的提及量不计入门店的平时水平，"
                   "活动中的预警按促销客流计算“平时”。")
        local = (lambda col: pd.to_datetime(promotions[col], utc=True).dt.tz_convert(ctx.scope.tz).dt.tz_localize(None))
        st.dataframe(pd.DataFrame({
            "活动": promotions["name"].replace("", "（未命名）"),
            "门店": promotions["stores"].map(lambda names: "、".join(names) if names else "全部门店"),
            "开始": local("start"), "结束": local("end"),
            "状态": promotions["status"].map(PROMOTION_STATUS),
        }), hide_index=True, width="stretch",
            column_config={"开始": st.column_config.DatetimeColumn(format="MM-DD HH:mm"),
                           "结束": st.column_config.DatetimeColumn(format="MM-DD HH:mm")})


def _first_page() -> None:
    """A new state or severity filter starts again at page 1."""
    st.session_state["al_page"] = 1


c1, c2 = st.columns([3, 2])
view = c1.segmented_control("状态", list(VIEWS), default="未关闭", key="al_view", on_change=_first_page) or "未关闭"
severities = c2.multiselect("级别", list(SEVERITY), format_func=SEVERITY.get, key="al_sev", placeholder="全部",
                            on_change=_first_page)
wanted = (VIEWS[view], tuple(severities))
page = int(st.session_state.get("al_page", 1))
table, total = cache.q(ctx.db_url, "alerts_page", ctx.scope, *wanted, page, PAGE_SIZE)
if total == 0:
    st.info("没有符合条件的预警。" if view != "未关闭" else "目前没有待处理的预警。")
    st.stop()
pages = max(1, math.ceil(total / PAGE_SIZE))
if page > pages:  # the filters or an action shrank the list under the page shown
    page = st.session_state["al_page"] = pages
    table, total = cache.q(ctx.db_url, "alerts_page", ctx.scope, *wanted, page, PAGE_SIZE)

alerts = table.to_dict("records")
first = (page - 1) * PAGE_SIZE + 1
st.caption(f"共 {total:,} 条预警，第 {first:,}–{first + len(alerts) - 1:,} 条（最新在前）。"
           "在下方选择一条查看证据、相关提及并处理。")
st.dataframe(pd.DataFrame({
    "编号": table["id"].map(lambda i: f"#{i}"),
    "时间": pd.to_datetime(table["opened_at"], utc=True).dt.tz_convert(ctx.scope.tz).dt.tz_localize(None),
    "级别": table["severity"].map(lambda s: label(SEVERITY, s)),
    "状态": table["status"].map(lambda s: label(ALERT_STATUS, s)),
    "类型": table["kind"].map(lambda k: label(ALERT_KIND, k)),
    "范围": [_scope_name(ctx, a) for a in alerts],
    "标题": table["title"],
}), hide_index=True, placeholder="—", width="stretch", row_height=TITLE_ROW_HEIGHT,
    column_config={"时间": st.column_config.DatetimeColumn(format="MM-DD HH:mm", width=90),
                   "编号": st.column_config.TextColumn(width=50), "级别": st.column_config.TextColumn(width=50),
                   "状态": st.column_config.TextColumn(width=60), "类型": st.column_config.TextColumn(width=80),
                   "范围": st.column_config.TextColumn(width=170),
                   "标题": st.column_config.TextColumn(width="large")})
if pages > 1:
    p1, _ = st.columns([1, 4])
    p1.number_input(f"页码（共 {pages} 页）", min_value=1, max_value=pages, step=1, key="al_page")

by_id = {int(a["id"]): a for a in alerts}
if linked is not None:
    by_id.pop(int(linked["id"]), None)  # shown above already
if not by_id:
    st.stop()
picked = st.selectbox("查看预警", list(by_id), key="al_pick",
                      format_func=lambda i: f"#{i} {label(SEVERITY, by_id[i]['severity'])} · "
                                            f"{label(ALERT_STATUS, by_id[i]['status'])} · {by_id[i]['title']}")
if picked is not None:
    _detail(ctx, by_id[picked])
