"""Display names of sources: what a manager reads instead of a config id like ``dianping-sh-wxc``.

A source's ``name`` in the catalog wins; without one, the platform's Chinese name (or, for a
source without a platform, what kind of source it is), with the store it is bound to.
"""

from __future__ import annotations

PLATFORMS: dict[str, str] = {
    "dianping": "大众点评",
    "meituan": "美团",
    "meituan_waimai": "美团外卖",
    "eleme": "饿了么",
    "weibo": "微博",
    "xhs": "小红书",
    "xiaohongshu": "小红书",
    "douyin": "抖音",
    "bilibili": "B站",
    "zhihu": "知乎",
    "tieba": "贴吧",
    "taobao": "淘宝",
    "tmall": "天猫",
    "jd": "京东",
    "miniprogram": "小程序",
    "cs": "客服",
}

SOURCE_TYPES: dict[str, str] = {"feed": "RSS", "file": "文件导入", "html": "网页", "json": "接口",
                                 "mediacrawler": "MediaCrawler"}


def default_source_name(source_type: str, platform: str = "", store_name: str | None = None) -> str:
    """A readable Chinese name for a source that has none: ``大众点评 · 徐家汇店``, ``微博``, ``文件导入``."""
    base = PLATFORMS.get(platform) or SOURCE_TYPES.get(source_type) or platform or source_type
    return f"{base} · {store_name}" if store_name else base
