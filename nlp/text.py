"""Clean-up of Chinese reviews and social posts. Pure functions only.

What :func:`clean` does, in order:

1. full-width ASCII → half-width (``ＡＰＰ１２３`` → ``APP123``, ``，`` → ``,``), ideographic space → space;
2. traditional → simplified (OpenCC ``t2s``), for reviews written in HK / TW;
3. Weibo repost chains: keep the author's own words before the first ``//@``; a pure
   repost keeps the first quoted comment instead;
4. boilerplate (``展开全文``, ``网页链接``, ``收起全文``, ``O网页链接`` …), URLs and ``@user`` handles removed;
5. ``#话题#`` keeps the topic words (they often name the brand) without the ``#`` marks;
6. whitespace collapsed.

Emoji, kaomoji and Weibo emoticon tokens such as ``[哈哈]`` are kept: 😡 is sentiment.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20

_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_SHORT_URL = re.compile(r"\b(?:t\.cn|dwz\.cn|url\.cn)/[A-Za-z0-9]+", re.IGNORECASE)
_MENTION = re.compile(r"@[\w\u4e00-\u9fff\-·]{1,30}")
_TOPIC = re.compile(r"#([^#\n]{1,60})#")
_REPOST = re.compile(r"//\s*@")
_REPOST_HEAD = re.compile(r"^[^:：\s]{1,30}[:：]\s*")
_BOILERPLATE = re.compile(
    r"O?网页链接|展开全文\s*[cC]?|收起全文\s*[dD]?|\.\.\.全文|查看图片|显示地图|(?:\S{1,30})?的(?:微博|秒拍|快手)视频|"
    r"转发微博|分享图片|Repost"
)
_SPACES = re.compile(r"\s+")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation → their half-width forms."""
    return text.translate(_FULLWIDTH)


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - OpenCC has no type
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def traditional_chars() -> dict[int, int]:
    """A ``str.translate`` table: traditional character → its usual simplified form (OpenCC's list)."""
    import opencc

    table: dict[int, int] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 1 and len(parts[1]) == 1 and parts[0] != parts[1]:
            table[ord(parts[0])] = ord(parts[1])
    return table


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese with OpenCC's phrase-aware ``t2s`` conversion.

    Text without a traditional character is returned as is (the common case, and fast).
    """
    if not text or text.translate(traditional_chars()) == text:
        return text
    return _t2s().convert(text)


def strip_repost_chain(text: str) -> str:
    """The author's own words of a Weibo repost ("mine //@a: theirs //@b: …").

    A pure repost ("//@a: theirs") keeps the first quoted comment, without its handle.
    """
    parts = _REPOST.split(text)
    own = parts[0].strip()
    if own or len(parts) == 1:
        return own
    for quoted in parts[1:]:
        body = _REPOST_HEAD.sub("", quoted.strip(), count=1).strip()
        if body:
            return body
    return ""


def strip_urls(text: str) -> str:
    """Remove URLs (also bare short links such as t.cn/xyz)."""
    return _SHORT_URL.sub(" ", _URL.sub(" ", text))


def strip_mentions(text: str) -> str:
    """Remove ``@user`` handles."""
    return _MENTION.sub(" ", text)


def unwrap_topics(text: str) -> str:
    """``#话题#`` → ``话题``: the words stay, the marks go."""
    return _TOPIC.sub(lambda m: f" {m.group(1).strip()} ", text)


def topics(text: str) -> list[str]:
    """The ``#话题#`` topics of a post, in order."""
    return [m.group(1).strip() for m in _TOPIC.finditer(to_halfwidth(text))]


def strip_boilerplate(text: str) -> str:
    """Remove platform boilerplate such as 展开全文 and 网页链接."""
    return _BOILERPLATE.sub(" ", text)


def collapse_spaces(text: str) -> str:
    """Collapse runs of whitespace to one space and trim."""
    return _SPACES.sub(" ", text).strip()


def clean(text: str | None) -> str:
    """The cleaned text of a review or post (see the module docstring); '' for None."""
    if not text:
        return ""
    text = to_simplified(to_halfwidth(text))
    text = strip_repost_chain(text)
    text = strip_boilerplate(strip_urls(text))
    text = strip_mentions(text)
    text = unwrap_topics(text)
    return collapse_spaces(text)
