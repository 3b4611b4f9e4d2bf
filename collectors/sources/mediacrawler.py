"""``mediacrawler``: output of MediaCrawler for xhs, dy, ks, bili, wb, tieba, zhihu.

Reads ``data/{platform}/{csv|json|jsonl}/…_{contents|comments}_….{ext}`` files (a
watched directory: new files and appended lines are picked up, progress is kept per
file in ``Source.state["files"]``) and its SQLite database (tables such as
``xhs_note`` / ``xhs_note_comment``, read by increasing id). Both schemas: the old
one with ``user_id`` / ``avatar`` / ``ip_location`` and the new one with
``creator_hash``. Timestamps in s or ms or as text; counts like "1.2万". A comment
carries the URL of its note (as stored from the contents, else built the way
MediaCrawler builds it), so every mention leads to the original post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar, Iterator, Literal

from pydantic import Field

from collectors.base import CommonOptions, Context, Item
from collectors.errors import ParseError
from collectors.imports import RowStream, import_rows, progress_of, watched_files
from collectors.parse.counts import parse_count
from collectors.parse.dates import parse_datetime
from collectors.parse.tabular import iter_csv, iter_json_array, iter_jsonl, iter_sqlite, sqlite_tables
from collectors.parse.text import collapse_whitespace

Platform = Literal["xhs", "dy", "ks", "bili", "wb", "tieba", "zhihu"]
Kind = Literal["contents", "comments"]


@dataclass(frozen=True)
class Profile:
    """Where one platform's contents or comments keep each field (first present wins)."""

    table: str
    id: tuple[str, ...]
    text: tuple[str, ...]
    time: tuple[str, ...]
    author: tuple[str, ...]
    likes: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    url: tuple[str, ...] = ()
    parent: tuple[str, ...] = ()


_AUTHOR_ID = ("user_id", "creator_hash", "sec_uid", "user_link", "user_url_token")
_KEEP = ("ip_location", "source_keyword", "comment_count", "comments_count", "share_count", "shared_count",
         "collected_count", "video_play_count", "viewd_count", "sub_comment_count", "parent_comment_id",
         "tieba_name", "type", "aweme_type", "video_type", "content_type", "tag_list")

PROFILES: dict[str, dict[str, Profile]] = {
    "xhs": {
        "contents": Profile("xhs_note", ("note_id",), ("desc", "content"), ("time", "create_time"), ("nickname",),
                            ("liked_count",), ("title",), ("note_url",)),
        "comments": Profile("xhs_note_comment", ("comment_id",), ("content",), ("create_time",), ("nickname",),
                            ("like_count",), parent=("note_id",)),
    },
    "dy": {
        "contents": Profile("douyin_aweme", ("aweme_id",), ("desc", "title"), ("create_time",), ("nickname",),
                            ("liked_count",), ("title",), ("aweme_url",)),
        "comments": Profile("douyin_aweme_comment", ("comment_id",), ("content",), ("create_time",), ("nickname",),
                            ("like_count",), parent=("aweme_id",)),
    },
    "ks": {
        "contents": Profile("kuaishou_video", ("video_id",), ("desc", "title"), ("create_time",), ("nickname",),
                            ("liked_count",), ("title",), ("video_url",)),
        "comments": Profile("kuaishou_video_comment", ("comment_id",), ("content",), ("create_time",), ("nickname",),
                            ("like_count",), parent=("video_id",)),
    },
    "bili": {
        "contents": Profile("bilibili_video", ("video_id",), ("desc", "title"), ("create_time",), ("nickname",),
                            ("liked_count",), ("title",), ("video_url",)),
        "comments": Profile("bilibili_video_comment", ("comment_id",), ("content",), ("create_time",),
                            ("nickname",), ("like_count",), parent=("video_id",)),
    },
    "wb": {
        "contents": Profile("weibo_note", ("note_id",), ("content",), ("create_time", "create_date_time"),
                            ("nickname",), ("liked_count",), (), ("note_url",)),
        "comments": Profile("weibo_note_comment", ("comment_id",), ("content",), ("create_time", "create_date_time"),
                            ("nickname",), ("comment_like_count", "like_count"), parent=("note_id",)),
    },
    "tieba": {
        "contents": Profile("tieba_note", ("note_id",), ("desc", "title"), ("publish_time",), ("user_nickname",),
                            (), ("title",), ("note_url",)),
        "comments": Profile("tieba_comment", ("comment_id",), ("content",), ("publish_time",), ("user_nickname",),
                            (), (), ("note_url",), ("note_id",)),
    },
    "zhihu": {
        "contents": Profile("zhihu_content", ("content_id",), ("content_text", "desc", "title"),
                            ("created_time", "publish_time"), ("user_nickname",), ("voteup_count",), ("title",),
                            ("content_url",)),
        "comments": Profile("zhihu_comment", ("comment_id",), ("content",), ("publish_time", "created_time"),
                            ("user_nickname",), ("like_count",), parent=("content_id",)),
    },
}


# how MediaCrawler itself builds a note's URL from its id (its store modules); zhihu needs
# the question id and tieba comments carry note_url already
NOTE_URLS = {"xhs": "https://www.xiaohongshu.com/explore/{}", "dy": "https://www.douyin.com/video/{}",
             "ks": "https://www.kuaishou.com/short-video/{}", "bili": "https://www.bilibili.com/video/av{}",
             "wb": "https://m.weibo.cn/detail/{}"}
PARENT_URL = "_parent_url"  # row key: the URL of the comment's note as stored
_LOOKUP_BATCH = 1000


class MediaCrawlerOptions(CommonOptions):
    """Options of a ``mediacrawler`` source."""

    path: str = Field(description="MediaCrawler's data/{platform} directory, one output file, or its SQLite .db")
    platform: Platform
    include: list[Kind] = Field(default_factory=lambda: ["contents", "comments"])
    pattern: str = Field("**/*", description="glob of files inside the directory")
    batch_size: int = Field(1000, ge=1, le=20_000)


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return None


def kind_of(path: Path) -> str | None:
    """"contents" / "comments" from a MediaCrawler file name; None for other files
    (creators, …)."""
    name = path.name.lower()
    if "comment" in name:
        return "comments"
    if "content" in name or "note" in name or "video" in name or "aweme" in name:
        return "contents"
    return None


def row_to_item(row: dict[str, Any], platform: str, kind: str, *, now: datetime, tz: tzinfo) -> Item:
    """One MediaCrawler record (either schema) as an Item; raises ValueError when unusable."""
    profile = PROFILES[platform][kind]
    ident = _first(row, profile.id)
    if ident is None:
        raise ValueError(f"no {'/'.join(profile.id)}")
    text = collapse_whitespace(str(_first(row, profile.text) or ""))
    if not text:
        raise ValueError("empty text")
    raw_time = _first(row, profile.time)
    try:
        published = parse_datetime(raw_time, now=now, tz=tz)
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"bad time {raw_time!r}") from exc
    extra: dict[str, Any] = {k: row[k] for k in _KEEP if row.get(k) not in (None, "")}
    author_id = _first(row, _AUTHOR_ID)
    if author_id is not None:
        extra["author_id"] = str(author_id)
    parent = _first(row, profile.parent)
    if parent is not None:
        extra["parent_id"] = str(parent)
    title = _first(row, profile.title)
    author = _first(row, profile.author)
    url = _first(row, profile.url)
    if url is None and parent is not None:
        url = row.get(PARENT_URL) or (NOTE_URLS[platform].format(parent) if platform in NOTE_URLS else None)
    return Item(
        external_id=f"{'comment' if kind == 'comments' else 'content'}:{ident}", text=text, published_at=published,
        kind="comment" if kind == "comments" else "post", url=url,
        author=str(author) if author is not None else None,
        title=collapse_whitespace(str(title)) if title and kind == "contents" else None,
        likes=parse_count(_first(row, profile.likes)), extra=extra)


class MediaCrawlerCollector:
    """Collector for MediaCrawler output files and database."""

    type: ClassVar[str] = "mediacrawler"
    Options: ClassVar[type[MediaCrawlerOptions]] = MediaCrawlerOptions

    async def collect(self, ctx: Context, options: MediaCrawlerOptions) -> None:
        """Import new records from every new or grown output file, or new database rows."""
        root = Path(options.path).expanduser()
        if not root.exists():
            raise ParseError(f"{root} does not exist")
        if root.is_file() and root.suffix.lower() in (".db", ".sqlite", ".sqlite3"):
            self._database(ctx, options, root)
            return
        # contents first: their URLs are stored before the comments that point at them
        for path in sorted(watched_files(root, options.pattern), key=lambda p: kind_of(p) != "contents"):
            suffix = path.suffix.lower()
            kind = kind_of(path)
            if suffix not in (".csv", ".json", ".jsonl") or kind not in options.include:
                continue
            key = str(path.resolve())
            start = progress_of(ctx.state, key, path)
            if start is None:
                continue
            if suffix == ".csv":
                rows = iter_csv(path, encoding="utf-8-sig", skip=start)
            elif suffix == ".jsonl":
                rows = iter_jsonl(path, skip=start)
            else:
                rows = iter_json_array(path, skip=start)
            if kind == "comments":
                rows = with_parent_urls(ctx, rows, options.platform)
            try:
                import_rows(ctx, key=key, path=path, rows=rows, batch_size=options.batch_size, start=start,
                            to_item=lambda r, k=kind: row_to_item(r, options.platform, k, now=ctx.now, tz=ctx.tz))
            except (ValueError, UnicodeError) as exc:  # a .json that is not JSON at all
                ctx.log_error(f"{path.name}: unreadable: {exc}")

    def _database(self, ctx: Context, options: MediaCrawlerOptions, db_path: Path) -> None:
        tables = sqlite_tables(db_path)
        for kind in sorted(options.include, key=lambda k: k != "contents"):
            table = PROFILES[options.platform][kind].table
            if table not in tables:
                ctx.log_error(f"{db_path.name}: no table {table}")
                continue
            key = f"{db_path.resolve()}#{table}"
            after = int(ctx.state.get("files", {}).get(key, {}).get("rows", 0))
            rows: RowStream = iter_sqlite(db_path, table, after_id=after)
            if kind == "comments":
                rows = with_parent_urls(ctx, rows, options.platform)
            import_rows(ctx, key=key, path=db_path, rows=rows, batch_size=options.batch_size, start=after,
                        to_item=lambda r, k=kind: row_to_item(r, options.platform, k, now=ctx.now, tz=ctx.tz))


def with_parent_urls(ctx: Context, rows: RowStream, platform: str) -> Iterator[tuple[int, Any]]:
    """Comment rows with the URL of their note as stored by this source (``PARENT_URL``),
    looked up a thousand rows at a time."""
    profile = PROFILES[platform]["comments"]
    batch: list[tuple[int, Any]] = []

    def flush() -> Iterator[tuple[int, Any]]:
        parents: dict[int, str] = {}
        for index, (_, row) in enumerate(batch):
            parent = _first(row, profile.parent) if isinstance(row, dict) else None
            if parent is not None:
                parents[index] = f"content:{parent}"
        urls = ctx.stored_urls(sorted(set(parents.values())))
        for index, (number, row) in enumerate(batch):
            url = urls.get(parents.get(index, ""))
            if url:
                row[PARENT_URL] = url
            yield number, row
        batch.clear()

    for entry in rows:
        batch.append(entry)
        if len(batch) >= _LOOKUP_BATCH:
            yield from flush()
    yield from flush()
