"""A local demo site on loopback serving the generated mentions in three formats:

* ``/shop/{store_id}/reviews?page=N`` — a 点评-style HTML review listing, newest first,
  20 per page, a ``下一页`` link to the next page, times shown in Beijing time;
* ``/feeds/weibo.xml`` — an RSS 2.0 feed (RSSHub style: HTML descriptions);
* ``/feeds/xhs.json`` — a JSON Feed 1.1.
"""

from __future__ import annotations

import html
import json
import threading
from collections import defaultdict
from datetime import timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tingfeng.demo.chain import DemoChain
from tingfeng.demo.generator import DemoMention

SHANGHAI = timezone(timedelta(hours=8))
PAGE_SIZE = 20


def render_review_page(chain: DemoChain, store_id: str, reviews: list[DemoMention], page: int) -> str:
    """One page of a store's review listing (``reviews`` newest first)."""
    store = next(s for s in chain.stores if s.id == store_id)
    products = {p.id: p.name for p in chain.products}
    chunk = reviews[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    items = []
    for r in chunk:
        local = r.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        items.append(
            f'<li class="review" data-id="{html.escape(r.id)}">'
            f'<a class="permalink" href="/review/{html.escape(r.id)}">'
            f'<span class="name">{html.escape(r.author)}</span></a>'
            f'<span class="star star-{(r.rating or 0) * 10}"></span>'
            f'<span class="time">{local}</span>'
            f'<span class="dish">{html.escape(products.get(r.product_id or "", ""))}</span>'
            f'<p class="content">{html.escape(r.text)}</p></li>'
        )
    nxt = f'<a class="next" href="/shop/{store_id}/reviews?page={page + 1}">下一页</a>' if page * PAGE_SIZE < len(reviews) else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(store.name)} 的评价</title></head><body>"
        f'<h1 class="shop-name" data-shop-id="{store.dianping_id}">{html.escape(store.name)}</h1>'
        f'<ul class="reviews">{"".join(items)}</ul><div class="pager">{nxt}</div></body></html>'
    )


def render_rss(chain: DemoChain, posts: list[DemoMention], base: str, brand_name: str | None = None) -> str:
    """An RSS 2.0 feed of posts (newest first), descriptions as HTML like RSSHub's."""
    items = []
    for p in posts:
        desc = html.escape(f"<p>{html.escape(p.text)}</p><br>#{brand_name or chain.brand_name}#")
        items.append(
            f"<item><title>{html.escape(p.text[:30])}</title><link>{base}/post/{p.id}</link>"
            f'<guid isPermaLink="false">{p.id}</guid><author>{html.escape(p.author)}</author>'
            f"<pubDate>{format_datetime(p.published_at.astimezone(SHANGHAI))}</pubDate>"
            f"<description>{desc}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>微博关键词：{html.escape(chain.brand_name)}</title><link>{base}/</link>"
        f"<description>RSSHub 风格的演示订阅</description>{''.join(items)}</channel></rss>"
    )


def render_json_feed(chain: DemoChain, posts: list[DemoMention], base: str) -> str:
    """A JSON Feed 1.1 of posts (newest first)."""
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"小红书笔记：{chain.brand_name}",
        "home_page_url": f"{base}/",
        "items": [
            {
                "id": p.id,
                "url": f"{base}/note/{p.id}",
                "content_text": p.text,
                "date_published": p.published_at.astimezone(SHANGHAI).isoformat(),
                "authors": [{"name": p.author}],
            }
            for p in posts
        ],
    }, ensure_ascii=False)


class DemoSite:
    """The demo site running in a background thread on 127.0.0.1."""

    def __init__(self, chain: DemoChain, mentions: list[DemoMention], port: int = 0) -> None:
        self.chain = chain
        self.by_store: dict[str, list[DemoMention]] = defaultdict(list)
        self.by_channel: dict[str, list[DemoMention]] = defaultdict(list)
        for m in sorted(mentions, key=lambda m: m.published_at, reverse=True):
            if m.brand_id:  # a competitor's posts: one keyword feed per competitor
                self.by_channel[f"competitor-{m.brand_id}"].append(m)
            elif m.channel == "dianping":
                self.by_store[m.store_id or ""].append(m)
            else:
                self.by_channel[m.channel].append(m)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlparse(self.path)
                parts = url.path.strip("/").split("/")
                body, ctype, status = "not found", "text/plain; charset=utf-8", 404
                if url.path == "/robots.txt":
                    body, ctype, status = "User-agent: *\nAllow: /\n", "text/plain", 200
                elif len(parts) == 3 and parts[0] == "shop" and parts[2] == "reviews" and parts[1] in site.by_store:
                    page = max(1, int(parse_qs(url.query).get("page", ["1"])[0] or 1))
                    body = render_review_page(site.chain, parts[1], site.by_store[parts[1]], page)
                    ctype, status = "text/html; charset=utf-8", 200
                elif url.path == "/feeds/weibo.xml":
                    body = render_rss(site.chain, site.by_channel["weibo"], site.base_url)
                    ctype, status = "application/rss+xml; charset=utf-8", 200
                elif url.path.startswith("/feeds/competitor-") and url.path.endswith(".xml"):
                    key = url.path[len("/feeds/"):-len(".xml")]
                    names = {f"competitor-{c[0]}": c[1] for c in site.chain.competitors}
                    if key in names:
                        body = render_rss(site.chain, site.by_channel[key], site.base_url, names[key])
                        ctype, status = "application/rss+xml; charset=utf-8", 200
                elif url.path == "/feeds/xhs.json":
                    body = render_json_feed(site.chain, site.by_channel["xhs"], site.base_url)
                    ctype, status = "application/feed+json; charset=utf-8", 200
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-site", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "DemoSite":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
