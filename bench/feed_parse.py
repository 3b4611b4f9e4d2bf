"""Feed parsing benchmark — one command, prints its figures (issue 14).

    .venv/bin/python bench/feed_parse.py                 # 500 entries, 20 repeats
    .venv/bin/python bench/feed_parse.py --entries 50

Times :func:`collectors.sources.feed.parse_feed` (feedparser) over a generated RSS 2.0
feed of ``--entries`` review-length entries, well-formed and with one bare ``&`` in the
first entry (ill-formed: read entry by entry). Baseline, same run: lxml parsing the same
document and reading each item's fields with XPath (what the reader before feedparser
did, without its text conversion). Best of ``--repeat`` runs, per feed and per entry.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from collectors.sources.feed import parse_feed  # noqa: E402

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)


def feed(entries: int) -> str:
    """An RSSHub-like RSS 2.0 document."""
    items = "".join(
        f"<item><title>标题{i}</title><description><![CDATA[<p>周末下午去了门店，排队大概二十分钟，"
        f"芝士奶盖很厚，茶底有点淡 #{i}</p>]]></description><pubDate>Fri, 20 Nov 2026 12:30:00 GMT</pubDate>"
        f"<guid isPermaLink=\"false\">id-{i}</guid><link>https://x.example/{i}</link><author>作者{i}</author></item>"
        for i in range(entries))
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def lxml_baseline(doc: str) -> int:
    root = etree.fromstring(doc.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    count = 0
    for item in root.iter("item"):
        for name in ("title", "description", "pubDate", "guid", "link", "author"):
            item.findtext(name)
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    doc = feed(args.entries)
    broken = doc.replace("<description><![CDATA[", "<description>AT&T<![CDATA[", 1)
    assert len(parse_feed(doc, base_url="https://x.example/", now=NOW).items) == args.entries
    assert len(parse_feed(broken, base_url="https://x.example/", now=NOW).items) == args.entries
    print(f"machine: {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    for label, fn in (("parse_feed, well-formed", lambda: parse_feed(doc, base_url="https://x.example/", now=NOW)),
                      ("parse_feed, ill-formed (entry by entry)",
                       lambda: parse_feed(broken, base_url="https://x.example/", now=NOW)),
                      ("baseline: lxml + XPath fields", lambda: lxml_baseline(doc))):
        seconds = best(fn, args.repeat)
        print(f"  {label}: {seconds * 1000:.1f} ms per {args.entries}-entry feed, "
              f"{seconds / args.entries * 1e6:.0f} us per entry")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
