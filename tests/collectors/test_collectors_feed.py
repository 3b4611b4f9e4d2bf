"""feed: RSS / Atom / JSON Feed parsing (pure) and collection from a loopback server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import select

from collectors.errors import ParseError
from collectors.run import collect_source
from collectors.sources.feed import parse_feed
from storage.models import CollectorRun, Mention, Source

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>RSSHub 微博搜索 茶颜</title><link>https://weibo.com</link>
<item><title>今天的幽兰拿铁太甜了</title>
  <description><![CDATA[<p>今天的<b>幽兰拿铁</b>太甜了<br>下次少糖</p><img src="x.jpg"><script>alert(1)</script>]]></description>
  <pubDate>Fri, 20 Nov 2026 12:30:00 GMT</pubDate><guid isPermaLink="false">wb-1</guid>
  <link>https://weibo.com/1/abc</link><author>小明</author></item>
<item><title>五一广场店排队一小时</title><description>排队一小时，服务还行</description>
  <dc:date>2026-11-21T09:00:00</dc:date><link>https://weibo.com/1/def</link><dc:creator>小红</dc:creator></item>
<item><title>坏日期</title><description>这条日期坏了</description><pubDate>not a date at all</pubDate>
  <guid>wb-3</guid></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><id>tag:x,2026:1</id><title>新品测评</title>
  <link rel="alternate" href="/posts/1"/><published>2026-11-20T20:00:00+08:00</published>
  <author><name>甲</name></author><author><name>乙</name></author>
  <content type="html">&lt;p&gt;新品&lt;b&gt;好喝&lt;/b&gt;&lt;/p&gt;</content></entry>
<entry><id>tag:x,2026:2</id><title>只有标题</title><updated>2026-11-20</updated></entry>
</feed>"""

JSON_FEED = """{"version": "https://jsonfeed.org/version/1.1", "title": "RSSHub",
 "items": [
  {"id": "j1", "url": "https://xhs.com/n/1", "title": "探店", "content_html": "<p>环境<br/>不错</p>",
   "date_published": "2026-11-19T10:00:00.000Z", "authors": [{"name": "薯条"}]},
  {"id": "j2", "content_text": "外卖洒了", "date_published": "2026-11-19 18:00", "author": "路人"},
  {"id": "j3", "content_text": "", "title": ""}
 ]}"""


def test_rss_items_text_authors_and_dates() -> None:
    page = parse_feed(RSS, base_url="https://weibo.com/feed", now=NOW)
    assert [i.external_id for i in page.items] == ["wb-1", "https://weibo.com/1/def"]
    first, second = page.items
    assert first.text == "今天的幽兰拿铁太甜了\n下次少糖"
    assert "alert" not in first.text
    assert first.author == "小明"
    assert first.published_at == datetime(2026, 11, 20, 12, 30, tzinfo=timezone.utc)
    # no zone given: read as Asia/Shanghai
    assert second.published_at == datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)
    assert second.author == "小红"
    assert len(page.errors) == 1 and "entry 3" in page.errors[0] and "not a date" in page.errors[0]


def test_atom_multiple_authors_relative_link_and_title_only_entry() -> None:
    page = parse_feed(ATOM, base_url="https://blog.example/feed.atom", now=NOW)
    first, second = page.items
    assert first.text == "新品好喝"
    assert first.author == "甲, 乙"
    assert first.url == "https://blog.example/posts/1"
    assert first.published_at == datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    assert second.text == "只有标题" and second.external_id == "tag:x,2026:2"


def test_json_feed_author_list_or_string_and_empty_entry_skipped() -> None:
    page = parse_feed(JSON_FEED, base_url="https://rsshub.example/x?format=json", now=NOW)
    assert [i.author for i in page.items] == ["薯条", "路人"]
    assert page.items[0].text == "环境\n不错"
    assert page.items[1].published_at == datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)
    assert page.errors == ["entry 3: empty text"]


def test_malformed_xml_keeps_what_is_readable() -> None:
    broken = RSS.replace("</item>\n<item><title>五一", "<item><title>五一", 1).replace("</channel></rss>", "")
    page = parse_feed(broken, base_url="https://x/", now=NOW)
    assert page.items, "recovering parser should still read items"
    assert page.items[0].external_id == "wb-1"


def test_not_a_feed_raises() -> None:
    with pytest.raises(ParseError):
        parse_feed("<html><body>hello</body></html>", base_url="https://x/", now=NOW)
    with pytest.raises(ParseError):
        parse_feed("{not json", base_url="https://x/", now=NOW)


def test_xml_entities_are_not_expanded() -> None:
    evil = """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <rss><channel><item><guid>e1</guid><description>a &x; b</description></item></channel></rss>"""
    page = parse_feed(evil, base_url="https://x/", now=NOW)
    assert all("root:" not in i.text for i in page.items)


def test_collect_feed_stores_once_and_uses_conditional_get(db, server, fast_http, add_source) -> None:
    def handler(request):
        if request.headers.get("if-none-match") == '"v1"':
            return 304, {}, b""
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"v1"'}, RSS.encode()

    server.route("/rss", handler)
    add_source("wb", "feed", {"url": server.url("/rss")}, platform="weibo", brand_id="chayan")
    run = collect_source(db, "wb", http=fast_http, now=NOW)
    assert run.status == "partial" and run.items_new == 2 and run.items_skipped == 1
    assert any("not a date" in e for e in run.errors)
    with db.session() as s:
        mentions = s.exec(select(Mention).order_by(Mention.id)).all()
        assert [m.brand_hint for m in mentions] == ["chayan", "chayan"]
        assert all(m.platform == "weibo" and m.published_at.tzinfo for m in mentions)
        assert s.get(Source, "wb").state["validators"][server.url("/rss")]["etag"] == '"v1"'
    again = collect_source(db, "wb", http=fast_http, now=NOW)
    assert again.status == "not_modified" and again.items_new == 0
    with db.session() as s:
        assert len(s.exec(select(Mention)).all()) == 2
        assert len(s.exec(select(CollectorRun)).all()) == 2


def test_collect_feed_refetch_without_etag_is_idempotent(db, server, fast_http, add_source) -> None:
    server.static("/j", JSON_FEED, "application/feed+json")
    add_source("x", "feed", {"url": server.url("/j")})
    first = collect_source(db, "x", http=fast_http, now=NOW)
    second = collect_source(db, "x", http=fast_http, now=NOW)
    assert (first.items_new, second.items_new, second.items_duplicate) == (2, 0, 2)


def test_gbk_feed_declared_only_in_xml_decl(db, server, fast_http, add_source) -> None:
    body = RSS.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    server.static("/gbk", body, "application/xml")
    add_source("g", "feed", {"url": server.url("/gbk")})
    run = collect_source(db, "g", http=fast_http, now=NOW)
    assert run.items_new == 2
    with db.session() as s:
        assert s.exec(select(Mention.text).where(Mention.external_id == "wb-1")).one() == "今天的幽兰拿铁太甜了\n下次少糖"
