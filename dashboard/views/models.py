"""模型 Models: the sentiment model in force, its validation figures per domain, how often
marketing corrects each model version, and every version recorded."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.context import current

DOMAINS = {"online_shopping": "电商评论", "weibo": "微博", "waimai": "外卖评价", "chain": "本品牌评价（评分与更正）"}

ctx = current()
st.title("模型")
registry = cache.q(ctx.db_url, "model_registry")
rates = cache.q(ctx.db_url, "correction_rates")


def _local(value: object) -> str:
    return "—" if pd.isna(value) else pd.Timestamp(value).tz_convert(ctx.scope.tz).strftime("%Y-%m-%d %H:%M")


if registry.empty:
    st.info("还没有记录模型：第一次打分（`tingfeng score` 或调度运行）后，这里显示当前模型及其验证结果。")
else:
    now = registry[registry["current"]]
    row = (now if not now.empty else registry).iloc[0]
    figures = row["figures"] or {}
    st.subheader(f"当前模型：{row['name']} {row['version']}")
    st.caption(f"启用于 {_local(row['promoted_at'])}" + (f"；模型文件 `{row['artifact_path']}`" if row["artifact_path"] else
                                                    "；随程序发布"))
    validation = figures.get("validation") or {}
    if validation:
        st.markdown("**验证集 macro-F1（按数据领域）**")
        st.dataframe(pd.DataFrame({"领域": [DOMAINS.get(d, d) for d in validation],
                                   "macro-F1": [float(v) for v in validation.values()]}),
                     hide_index=True, width="content", column_config={"macro-F1": st.column_config.NumberColumn(format="%.3f")})
    else:
        st.caption("该模型文件未附带分领域验证结果。")
    cv = figures.get("cv")
    if cv:
        st.markdown(f"**自适应交叉验证**（{cv['n_examples']} 条有评分或已更正的提及，{cv['folds']} 折）："
                    f"原模型 {cv['base']} macro-F1 {cv['base_macro_f1']:.3f}，本模型 {cv['candidate_macro_f1']:.3f}")
    rate = figures.get("rates") or {}
    if rate:
        st.caption(f"该模型在校准集上的误判率：正面召回 tpr {rate.get('tpr', 0):.1%}，负面被判为正面 fpr "
                   f"{rate.get('fpr', 0):.1%}（看板、周报与预警邮件中的正面/负面占比都按它们校正并给出 95% 区间）。")

st.subheader("更正率（按模型版本）")
if rates.empty:
    st.caption("还没有打分结果。")
else:
    st.dataframe(pd.DataFrame({
        "模型": rates["model"] + " " + rates["model_version"],
        "当前打分条数": rates["scored"],
        "被更正提及": rates["corrected"],
        "情感更正": rates["sentiment"],
        "触点更正": rates["touchpoint"],
        "更正率": rates["rate"],
    }), hide_index=True, width="stretch", placeholder="—",
        column_config={"更正率": st.column_config.NumberColumn(format="percent")})

if not registry.empty:
    st.subheader("全部版本")
    st.dataframe(pd.DataFrame({
        "模型": registry["name"] + " " + registry["version"],
        "当前": registry["current"].map(lambda c: "✓" if c else ""),
        "记录于": registry["created_at"].map(_local),
        "启用于": registry["promoted_at"].map(_local),
        "自适应验证（原模型 → 本模型）": registry["figures"].map(
            lambda f: f"{f['cv']['base_macro_f1']:.3f} → {f['cv']['candidate_macro_f1']:.3f}" if (f or {}).get("cv") else "—"),
    }), hide_index=True, width="stretch", placeholder="—")
