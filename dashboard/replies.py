"""Setting a negative mention's reply status from the dashboard (未回复 / 已回复 / 无需回复).

The write goes through ``storage.replies``; this module checks that the viewer may see
the mention's store and says what happened in Chinese.
"""

from __future__ import annotations

from storage import replies

from dashboard import cache, queries
from dashboard.context import Context

STATUS_LABELS = {"pending": "未回复", "replied": "已回复", "not_needed": "无需回复"}


def set_status(ctx: Context, mention_id: int, status: str, text: str | None = None) -> tuple[bool, str]:
    """Record ``status`` (and the reply text) for a mention the viewer can see; (ok, message)."""
    if not ctx.access.can_acknowledge:
        return False, "您的角色不能处理回复。"
    store = queries.mention_store(cache.database(ctx.db_url), mention_id)
    if store is None or not ctx.access.allows_store(store):
        return False, f"提及 #{mention_id} 不存在或不在您的范围内。"
    try:
        replies.set_reply(cache.database(ctx.db_url), mention_id, status, by=ctx.access.user, text=text)
    except replies.ReplyError as exc:
        return False, f"未能保存：{exc}"
    finally:
        cache.invalidate()
    return True, f"提及 #{mention_id} 已标记为「{STATUS_LABELS[status]}」。"
