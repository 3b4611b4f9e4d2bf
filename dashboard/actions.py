"""Alert acknowledge / resolve from the dashboard and from signed e-mail links.

State changes go through ``storage.alert_state`` (shared with the e-mail links); this
module only checks that the viewer may see the alert and may take the action.
"""

from __future__ import annotations

from storage import alert_state

from dashboard import cache, queries
from dashboard.context import Context

ACTION_LABELS = {"ack": "确认", "resolve": "解决"}


def perform(ctx: Context, alert_id: int, action: str, note: str, by: str | None = None) -> tuple[bool, str]:
    """Acknowledge or resolve an alert the viewer can see; returns (ok, message in Chinese)."""
    db = cache.database(ctx.db_url)
    if action == "ack" and not ctx.access.can_acknowledge:
        return False, "您的角色不能确认预警。"
    if action == "resolve" and not ctx.access.can_resolve:
        return False, "您的角色不能解决预警（市场部仅可确认）。"
    if queries.alert_for_viewer(db, ctx.scope, alert_id) is None:
        return False, f"预警 #{alert_id} 不存在或不在您的范围内。"
    who = by or ctx.access.user
    try:
        if action == "ack":
            alert_state.acknowledge(db, alert_id, by=who, note=note)
        elif action == "resolve":
            alert_state.resolve(db, alert_id, by=who, note=note)
        else:
            return False, f"未知操作 {action}"
    except alert_state.InvalidTransition:
        return False, f"预警 #{alert_id} 已解决，不能再确认。"
    except alert_state.AlertNotFound:
        return False, f"预警 #{alert_id} 不存在。"
    finally:
        cache.invalidate()
    return True, f"预警 #{alert_id} 已{ACTION_LABELS[action]}。"


def verify_link(ctx: Context, token: str) -> tuple[alert_state.ActionClaim | None, str]:
    """Check a signed e-mail link token; returns (claim, "") or (None, why it was refused)."""
    if ctx.settings.signing.is_public:  # anyone can sign with the public key: such a link proves nothing
        return None, "看板使用公开的开发密钥，邮件链接已停用：请设置 TINGFENG_SECRET_KEY 后在预警列表中操作。"
    try:
        claim = alert_state.verify_action(ctx.settings.signing.value, token,
                                          ctx.settings.action_link_max_age)
    except alert_state.InvalidActionToken as exc:
        return None, "链接已过期，请在预警列表中直接操作。" if exc.expired else "链接无效。"
    return claim, ""
