"""MediaCrawler output written from its documented field lists, per platform, in the
old schema (user_id / avatar / ip_location) and the new one (creator_hash)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

BASE_S = 1763600000  # 2025-11-20 00:53:20 UTC

FIELDS = {
    "xhs": {
        "contents": "note_id type title desc video_url time last_update_time user_id nickname avatar liked_count "
                    "collected_count comment_count share_count ip_location image_list tag_list last_modify_ts "
                    "note_url source_keyword",
        "comments": "comment_id create_time ip_location note_id content user_id nickname avatar sub_comment_count "
                    "pictures parent_comment_id last_modify_ts like_count",
    },
    "dy": {
        "contents": "aweme_id aweme_type title desc create_time user_id sec_uid short_user_id user_unique_id "
                    "user_signature nickname avatar liked_count collected_count comment_count share_count "
                    "ip_location last_modify_ts aweme_url cover_url video_download_url source_keyword",
        "comments": "comment_id create_time ip_location aweme_id content user_id sec_uid short_user_id "
                    "user_unique_id user_signature nickname avatar sub_comment_count like_count last_modify_ts "
                    "parent_comment_id pictures",
    },
    "ks": {
        "contents": "video_id video_type title desc create_time user_id nickname avatar liked_count viewd_count "
                    "last_modify_ts video_url video_cover_url video_play_url source_keyword",
        "comments": "comment_id create_time video_id content user_id nickname avatar sub_comment_count "
                    "last_modify_ts",
    },
    "bili": {
        "contents": "video_id video_type title desc create_time user_id nickname avatar liked_count "
                    "video_play_count video_danmaku video_comment last_modify_ts video_url video_cover_url "
                    "source_keyword",
        "comments": "comment_id create_time video_id content user_id nickname avatar sub_comment_count "
                    "last_modify_ts like_count parent_comment_id",
    },
    "wb": {
        "contents": "note_id content create_time create_date_time liked_count comments_count shared_count "
                    "last_modify_ts note_url ip_location user_id nickname gender profile_url avatar source_keyword",
        "comments": "comment_id create_time create_date_time note_id content sub_comment_count comment_like_count "
                    "last_modify_ts ip_location parent_comment_id user_id nickname gender profile_url avatar",
    },
    "tieba": {
        "contents": "note_id title desc note_url publish_time user_link user_nickname user_avatar tieba_id "
                    "tieba_name tieba_link total_replay_num total_replay_page ip_location source_keyword "
                    "last_modify_ts",
        "comments": "comment_id parent_comment_id content user_link user_nickname user_avatar tieba_id tieba_name "
                    "tieba_link publish_time ip_location sub_comment_count note_id note_url last_modify_ts",
    },
    "zhihu": {
        "contents": "content_id content_type content_text content_url question_id title desc created_time "
                    "updated_time voteup_count comment_count source_keyword user_id user_link user_nickname "
                    "user_avatar user_url_token last_modify_ts",
        "comments": "comment_id parent_comment_id content publish_time ip_location sub_comment_count like_count "
                    "dislike_count content_id content_type user_id user_link user_nickname user_avatar "
                    "last_modify_ts",
    },
}
TABLES = {"xhs": ("xhs_note", "xhs_note_comment"), "dy": ("douyin_aweme", "douyin_aweme_comment"),
          "ks": ("kuaishou_video", "kuaishou_video_comment"), "bili": ("bilibili_video", "bilibili_video_comment"),
          "wb": ("weibo_note", "weibo_note_comment"), "tieba": ("tieba_note", "tieba_comment"),
          "zhihu": ("zhihu_content", "zhihu_comment")}
MS_PLATFORMS = {"xhs", "ks"}  # these store milliseconds
OLD_ONLY = {"user_id", "avatar", "ip_location", "user_avatar", "sec_uid", "profile_url"}


def record(platform: str, kind: str, n: int, *, new_schema: bool) -> dict:
    """One plausible record with every documented field."""
    row: dict = {}
    seconds = BASE_S + n * 60
    for field in FIELDS[platform][kind].split():
        if field in ("note_id", "aweme_id", "video_id", "content_id", "comment_id"):
            prefix = "c" if kind == "comments" and field == "comment_id" else "n"
            row[field] = f"{platform}-{prefix}{n}" if field == "comment_id" or kind == "contents" else f"{platform}-n1"
        elif field in ("desc", "content", "content_text"):
            row[field] = f"{platform} 第{n}条：茶颜悦色的幽兰拿铁{'不错' if n % 2 else '太甜'}"
        elif field == "title":
            row[field] = f"{platform} 标题{n}"
        elif field in ("time", "create_time", "created_time"):
            row[field] = seconds * 1000 if platform in MS_PLATFORMS else seconds
        elif field == "publish_time":
            row[field] = "2025-11-20 08:53" if platform == "tieba" else seconds
        elif field == "create_date_time":
            row[field] = "2025-11-20 08:53:20"
        elif field in ("liked_count", "like_count", "comment_like_count", "voteup_count"):
            row[field] = "1.2万" if n == 1 else str(n * 3)
        elif field in ("nickname", "user_nickname"):
            row[field] = f"{platform}用户{n}"
        elif field == "ip_location":
            row[field] = "湖南"
        elif field == "source_keyword":
            row[field] = "茶颜悦色"
        elif field.endswith("_url") or field in ("user_link", "tieba_link", "profile_url"):
            row[field] = f"https://{platform}.example/{field}/{n}"
        else:
            row[field] = str(n)
    if new_schema:
        for field in OLD_ONLY:
            row.pop(field, None)
        row["creator_hash"] = f"h{n:04d}"
    return row


def write_outputs(root: Path, platform: str, *, new_schema: bool, n: int = 3) -> Path:
    """data/{platform}/{jsonl,json,csv}/search_{contents,comments}_2025-11-20.* like MediaCrawler."""
    base = root / platform
    contents = [record(platform, "contents", i, new_schema=new_schema) for i in range(1, n + 1)]
    comments = [record(platform, "comments", i, new_schema=new_schema) for i in range(1, n + 1)]
    (base / "jsonl").mkdir(parents=True, exist_ok=True)
    (base / "json").mkdir(parents=True, exist_ok=True)
    (base / "csv").mkdir(parents=True, exist_ok=True)
    with (base / "jsonl" / "search_contents_2025-11-20.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in contents)
    (base / "json" / "search_comments_2025-11-20.json").write_text(json.dumps(comments, ensure_ascii=False),
                                                                   encoding="utf-8")
    with (base / "csv" / "search_creators_2025-11-20.csv").open("w", encoding="utf-8-sig", newline="") as f:
        f.write("user_id,nickname\n1,x\n")  # creators are not mentions
    return base


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_database(path: Path, platform: str, *, new_schema: bool, start: int = 1, n: int = 3) -> None:
    """MediaCrawler's SQLite tables (id autoincrement + the fields) for ``platform``."""
    conn = sqlite3.connect(path)
    for kind, table in zip(("contents", "comments"), TABLES[platform]):
        rows = [record(platform, kind, i, new_schema=new_schema) for i in range(start, start + n)]
        columns = list(rows[0])
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{table}" (id INTEGER PRIMARY KEY AUTOINCREMENT, '
                     + ", ".join(f'"{c}" TEXT' for c in columns) + ")")
        conn.executemany(f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                         f'VALUES ({", ".join("?" for _ in columns)})', [[r[c] for c in columns] for r in rows])
    conn.commit()
    conn.close()
