"""Chinese display labels for stored keys (touchpoints, sentiment, platforms, states)."""

from __future__ import annotations

from storage.source_names import PLATFORMS, SOURCE_TYPES  # noqa: F401 - one table each for dashboard and source names

TOUCHPOINTS: dict[str, str] = {
    "product": "出品/商品",
    "service": "服务",
    "environment": "环境",
    "price": "价格",
    "delivery": "配送",
    "digital": "数字渠道",
}

TOUCHPOINT_COLUMNS: list[str] = list(TOUCHPOINTS.values())  # heatmap columns: the customer journey, not the alphabet

SENTIMENTS: dict[str, str] = {"positive": "正面", "neutral": "中性", "negative": "负面"}


ALERT_STATUS: dict[str, str] = {"open": "待处理", "acknowledged": "已确认", "resolved": "已解决"}
SEVERITY: dict[str, str] = {"info": "提示", "warning": "警告", "critical": "严重"}
ALERT_KIND: dict[str, str] = {"spike": "负面激增", "urgent": "紧急词", "source_health": "数据源异常"}
SOURCE_HEALTH: dict[str, str] = {"ok": "正常", "failing": "失败", "blocked": "被拦截", "stale": "无新数据"}
RUN_STATUS: dict[str, str] = {
    "running": "运行中",
    "ok": "成功",
    "partial": "部分成功",
    "failed": "失败",
    "blocked": "被拦截",
    "not_modified": "无变化",
}
ROLES: dict[str, str] = {"admin": "管理员", "marketing": "市场部", "manager": "店长/区域经理"}
AUDIT_ACTIONS: dict[str, str] = {
    "login": "登录", "login_failed": "登录失败", "logout": "退出", "export": "导出",
    "alert_acknowledge": "确认预警", "alert_resolve": "解决预警", "correction": "更正标注",
    "reply": "回复状态", "prune": "保留期清理",
}


def label(mapping: dict[str, str], key: str | None) -> str:
    """The Chinese label of ``key``, or the key itself when unknown."""
    if not key:
        return "—"
    return mapping.get(key, key)
