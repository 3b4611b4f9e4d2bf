"""feed: the shapes real feeds come in (a public corpus of real and ill-formed feeds),
each served by a loopback HTTP server and collected into the database, plus the
attacks a hostile feed can carry."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from collectors.run import collect_source
from collectors.sources.feed import parse_feed
from storage.models import Mention

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def double_encoded(text: str) -> str:
    """``text``'s UTF-8 bytes read as Latin-1: what a feed stores when it encodes twice."""
    return text.encode("utf-8").decode("latin-1")


@dataclass
class Shape:
    body: bytes
    content_type: str
    # (external_id, text, url, author, published_at) of every stored mention, in order
    stored: list[tuple]
    errors: list[str] = field(default_factory=list)  # substrings, one per expected error


SHAPES: dict[str, Shape] = {
    "atom10-base64-content": Shape(
        f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><id>tag:a,2026:1</id><title>测评</title><updated>2026-11-20T00:00:00Z</updated>
  <content type="application/octet-stream">{b64("<p>新品<b>好喝</b></p>")}</content></entry>
</feed>""".encode(), "application/atom+xml",
        [("tag:a,2026:1", "新品好喝", None, None, datetime(2026, 11, 20, tzinfo=UTC))]),
    "atom03-base64-and-issued-modified-created": Shape(
        f"""<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title>
<entry><id>a03-1</id><title>旧版</title><link rel="alternate" type="text/html" href="https://a.example/1"/>
  <content type="text/html" mode="base64">{b64("<div>珍珠<i>软糯</i></div>")}</content>
  <issued>2026-11-20T08:00:00+08:00</issued><modified>2026-11-21T08:00:00+08:00</modified></entry>
<entry><id>a03-2</id><summary type="text/plain" mode="base64">{b64("排队 <一小时>")}</summary>
  <created>2026-11-19T08:00:00Z</created></entry>
<entry><id>a03-3</id><summary>只有修改日期</summary><modified>2026-11-18T08:00:00Z</modified></entry>
</feed>""".encode(), "application/xml",
        [("a03-1", "珍珠软糯", "https://a.example/1", None, datetime(2026, 11, 20, tzinfo=UTC)),
         ("a03-2", "排队 <一小时>", None, None, datetime(2026, 11, 19, 8, tzinfo=UTC)),
         ("a03-3", "只有修改日期", None, None, datetime(2026, 11, 18, 8, tzinfo=UTC))]),
    "rss-windows-1252": Shape(
        """<?xml version="1.0" encoding="windows-1252"?>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">w1</guid><description>\u201cCaf\u00e9\u201d \u2013 5\u20ac</description>
  <pubDate>Fri, 20 Nov 2026 12:30:00 GMT</pubDate></item>
<item><guid isPermaLink="false">w2</guid><description>&#147;numeric&#148; &#150; refs</description>
  <pubDate>Fri, 20 Nov 2026 12:31:00 GMT</pubDate></item>
</channel></rss>""".encode("cp1252"), "application/rss+xml",
        [("w1", "\u201cCaf\u00e9\u201d \u2013 5\u20ac", None, None, datetime(2026, 11, 20, 12, 30, tzinfo=UTC)),
         ("w2", "\u201cnumeric\u201d \u2013 refs", None, None, datetime(2026, 11, 20, 12, 31, tzinfo=UTC))]),
    "rss-latin1-label-with-cp1252-bytes": Shape(
        """<?xml version="1.0" encoding="iso-8859-1"?>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">l1</guid><description>\u201cna\u00efve\u201d</description></item>
</channel></rss>""".encode("cp1252"), "text/xml",
        [("l1", "\u201cna\u00efve\u201d", None, None, NOW)]),
    "rss-double-encoded-utf8": Shape(
        f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">d1</guid><title>{double_encoded("好喝")}</title>
  <description>{double_encoded("奶茶好喝，Café 不错")}</description></item>
</channel></rss>""".encode("utf-8"), "application/rss+xml; charset=utf-8",
        [("d1", "奶茶好喝，Café 不错", None, None, NOW)]),
    "rss-guid-is-permalink": Shape(
        """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="true">https://b.example/p/1</guid><description>显式永久链接</description></item>
<item><guid>https://b.example/p/2</guid><description>默认就是永久链接</description></item>
<item><guid isPermaLink="false">https://b.example/p/3</guid><description>不是链接</description></item>
<item><guid>p-4</guid><description>不像网址的 guid</description></item>
<item><guid isPermaLink="true">https://b.example/p/5</guid><link>https://b.example/real/5</link>
  <description>有 link 时用 link</description></item>
</channel></rss>""".encode(), "application/rss+xml",
        [("https://b.example/p/1", "显式永久链接", "https://b.example/p/1", None, NOW),
         ("https://b.example/p/2", "默认就是永久链接", "https://b.example/p/2", None, NOW),
         ("https://b.example/p/3", "不是链接", None, None, NOW),
         ("p-4", "不像网址的 guid", None, None, NOW),
         ("https://b.example/p/5", "有 link 时用 link", "https://b.example/real/5", None, NOW)]),
    "rss10-rdf-about-and-dc": Shape(
        """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://c.example/"><title>t</title></channel>
<item rdf:about="https://c.example/item/1"><title>标题</title><link>https://c.example/item/1.html</link>
  <description>RDF 条目</description><dc:date>2026-11-20T10:00:00+08:00</dc:date>
  <dc:creator>王五 (wang@c.example)</dc:creator></item>
</rdf:RDF>""".encode(), "application/rdf+xml",
        [("https://c.example/item/1", "RDF 条目", "https://c.example/item/1.html", "王五",
          datetime(2026, 11, 20, 2, tzinfo=UTC))]),
    "rss-name-email-authors": Shape(
        """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<item><guid isPermaLink="false">e1</guid><description>一</description><author>zhang@d.example (张三)</author></item>
<item><guid isPermaLink="false">e2</guid><description>二</description><author>李四 (li@d.example)</author></item>
<item><guid isPermaLink="false">e3</guid><description>三</description><author>only@d.example</author></item>
<item><guid isPermaLink="false">e4</guid><description>四</description>
  <dc:creator><![CDATA[赵六 <zhao@d.example>]]></dc:creator></item>
</channel></rss>""".encode(), "application/rss+xml",
        [("e1", "一", None, "张三", NOW), ("e2", "二", None, "李四", NOW), ("e3", "三", None, None, NOW),
         ("e4", "四", None, "赵六", NOW)]),
    "atom-author-with-email-element": Shape(
        """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><id>x1</id><title>两位作者</title><summary>合写</summary><updated>2026-11-20T00:00:00Z</updated>
  <author><name>甲</name><email>jia@e.example</email></author><author><name>乙 (yi@e.example)</name></author>
</entry></feed>""".encode(), "application/atom+xml",
        [("x1", "合写", None, "甲, 乙", datetime(2026, 11, 20, tzinfo=UTC))]),
    "billion-laughs-entry-then-good-entry": Shape(
        """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">bomb</guid><title>laughs</title><description>&lol3;</description></item>
<item><guid isPermaLink="false">good</guid><title>好评</title><description>这杯很好喝</description></item>
<item><guid isPermaLink="false">file</guid><description>a &xxe; b</description></item>
<item><guid isPermaLink="false">good2</guid><description>第二条好评</description></item>
</channel></rss>""".encode(), "application/rss+xml",
        [("good", "这杯很好喝", None, None, NOW), ("good2", "第二条好评", None, None, NOW)],
        ["entry 1: refers to the entity &lol3;", "entry 3: refers to the entity &xxe;"]),
    "incomplete-cdata": Shape(
        """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">c1</guid><title>截断</title><description><![CD</description></item>
<item><guid isPermaLink="false">c2</guid><description><![CDATA[没有结尾的 CDATA</description></item>
<item><guid isPermaLink="false">c3</guid><description><![CDATA[<p>完整的 <b>CDATA</b></p>]]></description></item>
<item><guid isPermaLink="false">c4</guid><description>AT&T 门店不错</description></item>
</channel></rss>""".encode(), "application/rss+xml",
        [("c3", "完整的 CDATA", None, None, NOW), ("c4", "AT&T 门店不错", None, None, NOW)],
        ["entry 1: a CDATA section that is cut", "entry 2: a CDATA section that is cut"]),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_feed_shape_collected_from_a_loopback_server(name, db, server, fast_http, add_source) -> None:
    shape = SHAPES[name]
    server.static(f"/{name}", shape.body, shape.content_type)
    add_source(name, "feed", {"url": server.url(f"/{name}")})
    run = collect_source(db, name, http=fast_http, now=NOW)
    with db.session() as s:
        stored = [(m.external_id, m.text, m.url, m.author, m.published_at)
                  for m in s.exec(select(Mention).order_by(Mention.id)).all()]
    assert stored == shape.stored, run.errors
    assert len(run.errors) == len(shape.errors), run.errors
    for expected, error in zip(shape.errors, run.errors):
        assert expected in error
    assert run.status == ("partial" if shape.errors else "ok")
    assert "@" not in repr([m[3] for m in stored])  # no e-mail address is stored


def test_no_junk_mention_from_a_broken_cdata_start() -> None:
    page = parse_feed(SHAPES["incomplete-cdata"].body.decode(), base_url="https://x/", now=NOW)
    assert page.items and not any("![" in item.text or "CD" in (item.title or "") for item in page.items)


def test_feed_bytes_that_name_a_url_or_a_file_are_never_opened(tmp_path) -> None:
    from collectors.errors import ParseError

    local = tmp_path / "secret.xml"
    local.write_text('<rss version="2.0"><channel><item><guid>s</guid><description>secret</description>'
                     "</item></channel></rss>")
    for body in (str(local), "http://127.0.0.1:9/feed.xml"):
        with pytest.raises(ParseError):
            parse_feed(body, base_url="https://x/", now=NOW)


@pytest.mark.parametrize("raw, name", [("zhang@d.example (张三)", "张三"), ("张三 (zhang@d.cn)", "张三"),
                                       ("张三 &lt;zhang@d.cn&gt;", "张三"), ("mailto:z@d.cn", ""), ("小红", "小红")])
def test_author_name_drops_addresses(raw, name) -> None:
    from collectors.sources.feed import author_name

    assert author_name(raw) == name
