"""mediacrawler: every platform, both schemas, files and SQLite, watched directory."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from collectors.run import collect_source
from collectors.parse.dates import SHANGHAI
from collectors.sources.mediacrawler import row_to_item
from mediacrawler_fixtures import MS_PLATFORMS, record, write_csv, write_database, write_outputs
from storage.models import Mention

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)
PLATFORMS = ["xhs", "dy", "ks", "bili", "wb", "tieba", "zhihu"]


@pytest.mark.parametrize("new_schema", [False, True], ids=["old-schema", "creator_hash"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_record_mapping_per_platform(platform: str, new_schema: bool) -> None:
    raw = record(platform, "contents", 1, new_schema=new_schema)
    content = row_to_item(raw, platform, "contents", now=NOW, tz=SHANGHAI)
    comment = row_to_item(record(platform, "comments", 2, new_schema=new_schema), platform, "comments",
                          now=NOW, tz=SHANGHAI)
    assert content.external_id.startswith("content:") and content.kind == "post"
    assert "茶颜悦色" in content.text and content.author and "用户1" in content.author
    assert comment.external_id == f"comment:{platform}-c2" and comment.kind == "comment"
    assert comment.extra["parent_id"] == f"{platform}-n1"
    if platform == "tieba":
        assert content.published_at == datetime(2025, 11, 20, 0, 53, tzinfo=timezone.utc)
    else:
        assert content.published_at == datetime(2025, 11, 20, 0, 54, 20, tzinfo=timezone.utc)
    if platform not in ("tieba",):
        assert content.likes == 12000  # "1.2万"
    if new_schema:
        assert content.extra["author_id"] == "h0001" and "ip_location" not in content.extra
    elif "ip_location" in raw:
        assert content.extra["ip_location"] == "湖南"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_output_directory_both_schemas(db, tmp_path, add_source, platform: str) -> None:
    write_outputs(tmp_path / "old", platform, new_schema=False)
    write_outputs(tmp_path / "new", platform, new_schema=True)
    add_source("old", "mediacrawler", {"path": str(tmp_path / "old" / platform), "platform": platform})
    add_source("new", "mediacrawler", {"path": str(tmp_path / "new" / platform), "platform": platform})
    for source_id in ("old", "new"):
        run = collect_source(db, source_id, now=NOW)
        assert (run.status, run.items_new) == ("ok", 6), run.errors
    with db.session() as s:
        kinds = s.exec(select(Mention.kind).where(Mention.source_id == "new")).all()
        linked = s.exec(select(Mention).where(Mention.source_id == "new", Mention.duplicate_of.is_not(None))).all()
    assert sorted(kinds) == ["comment"] * 3 + ["post"] * 3
    assert len(linked) == 6  # the same posts seen by another source are linked, not double counted


def test_watched_directory_appended_lines_new_files_and_bad_lines(db, tmp_path, add_source) -> None:
    base = write_outputs(tmp_path, "xhs", new_schema=True)
    add_source("x", "mediacrawler", {"path": str(base), "platform": "xhs", "include": ["contents"]})
    assert collect_source(db, "x", now=NOW).items_new == 3
    with (base / "jsonl" / "search_contents_2025-11-20.jsonl").open("a", encoding="utf-8") as f:
        f.write("{broken json\n")
        f.write(json.dumps(record("xhs", "contents", 4, new_schema=True), ensure_ascii=False) + "\n")
    write_csv(base / "csv" / "search_contents_2025-11-21.csv",
              [record("xhs", "contents", i, new_schema=False) for i in (5, 6)])
    run = collect_source(db, "x", now=NOW)
    assert (run.items_new, run.items_skipped, run.status) == (3, 1, "partial")
    assert run.errors[0].startswith("search_contents_2025-11-20.jsonl: line 4:")
    assert collect_source(db, "x", now=NOW).items_seen == 0


def test_sqlite_database_reads_new_rows_only(db, tmp_path, add_source) -> None:
    path = tmp_path / "sqlite_tables.db"
    write_database(path, "dy", new_schema=False)
    add_source("d", "mediacrawler", {"path": str(path), "platform": "dy"})
    assert collect_source(db, "d", now=NOW).items_new == 6
    write_database(path, "dy", new_schema=False, start=4, n=2)
    run = collect_source(db, "d", now=NOW)
    assert (run.items_seen, run.items_new) == (4, 4)
    fresh = tmp_path / "new_schema.db"
    write_database(fresh, "zhihu", new_schema=True)
    add_source("z", "mediacrawler", {"path": str(fresh), "platform": "zhihu"})
    assert collect_source(db, "z", now=NOW).items_new == 6
    with db.session() as s:
        authors = s.exec(select(Mention.extra).where(Mention.source_id == "z")).all()
    assert {a["author_id"] for a in authors} >= {"h0001", "h0002", "h0003"}
    add_source("wrong", "mediacrawler", {"path": str(path), "platform": "bili"})
    assert "no table bilibili_video" in collect_source(db, "wrong", now=NOW).errors[0]


def test_ms_and_s_platforms_are_declared() -> None:
    assert MS_PLATFORMS <= set(PLATFORMS)


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if p != "tieba"])  # tieba comments have note_url
def test_comments_carry_the_url_of_their_note(db, tmp_path, add_source, platform: str) -> None:
    base = write_outputs(tmp_path, platform, new_schema=True)
    add_source("m", "mediacrawler", {"path": str(base), "platform": platform})
    assert collect_source(db, "m", now=NOW).items_new == 6
    with db.session() as s:
        notes = {m.external_id: m.url for m in s.exec(select(Mention).where(Mention.kind == "post")).all()}
        comments = s.exec(select(Mention).where(Mention.kind == "comment")).all()
    assert len(comments) == 3
    # every comment of the fixture answers note n1, whose stored URL it carries
    assert {c.url for c in comments} == {notes[f"content:{platform}-n1"]}
    assert all(c.url for c in comments)


def test_comment_url_from_the_database_and_built_when_the_note_is_unknown(db, tmp_path, add_source) -> None:
    path = tmp_path / "sqlite_tables.db"
    write_database(path, "wb", new_schema=False)
    add_source("w", "mediacrawler", {"path": str(path), "platform": "wb", "include": ["comments", "contents"]})
    assert collect_source(db, "w", now=NOW).items_new == 6
    with db.session() as s:
        urls = {m.url for m in s.exec(select(Mention).where(Mention.kind == "comment")).all()}
    assert urls == {"https://wb.example/note_url/1"}  # contents stored first, whatever the include order
    orphan = record("dy", "comments", 7, new_schema=True)  # its note was never collected
    assert row_to_item(orphan, "dy", "comments", now=NOW, tz=SHANGHAI).url == "https://www.douyin.com/video/dy-n1"
