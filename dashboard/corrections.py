"""Label corrections from the mentions page.

The correction itself is ``storage.corrections`` (written through to the analysis and
the rollups at once); this module checks that the viewer may correct and may see the
mention, and turns the outcome into a message in Chinese.
"""

from __future__ import annotations

from storage.corrections import CorrectionError, Target, record_correction

from dashboard import cache, queries
from dashboard.context import Context


def submit(ctx: Context, target: Target, new_label: str, by: str | None = None) -> tuple[bool, str]:
    """Record a correction the viewer may make; returns (ok, message in Chinese)."""
    if not ctx.access.can_correct:
        return False, "您的角色不能更正标注（仅市场部与管理员）。"
    db = cache.database(ctx.db_url)
    if queries.mentions_by_ids(db, ctx.scope, [target.mention_id]).empty:
        return False, f"提及 #{target.mention_id} 不存在或不在您的范围内。"
    try:
        record_correction(db, target, new_label, by=by or ctx.access.user)
    except CorrectionError as exc:
        return False, f"未能更正提及 #{target.mention_id}：{exc}"
    finally:
        cache.invalidate()
    return True, f"已更正提及 #{target.mention_id}，所有统计即时生效，并将用于下次模型自适应（nlp adapt）。"
