"""Pure parsing helpers: text, dates, ratings, counts, field specs and paths."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from collectors.parse.counts import parse_count
from collectors.parse.dates import parse_datetime
from collectors.parse.paths import get_path
from collectors.parse.ratings import parse_rating
from collectors.parse.selectors import FieldSpec, check_spec
from collectors.parse.text import content_hash, html_to_text, normalise_for_hash

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)


def test_html_to_text_keeps_text_around_dropped_scripts() -> None:
    assert html_to_text("<p>好喝<script>alert(1)</script>再来<style>p{}</style>一杯</p><div>第二段</div>") == \
        "好喝再来一杯\n第二段"
    assert html_to_text("纯文本  两个空格") == "纯文本 两个空格"
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"


def test_repost_hash_ignores_punctuation_width_case_and_urls() -> None:
    assert content_hash("好喝！！ABC https://t.cn/x") == content_hash("好喝!!abc")
    assert content_hash("好喝") != content_hash("难喝")
    # URLs are found after NFKC (a full-width colon still makes one); marks compose first
    assert normalise_for_hash("好喝 https：//t.cn/x ！") == "好喝"
    assert normalise_for_hash("xhttps://a b") == "xb"
    assert normalise_for_hash("Ａ\u0301，😀\u3000x") == "áx"


@pytest.mark.parametrize(("text", "expected"), [
    ("3分钟前", datetime(2026, 11, 22, 3, 57, tzinfo=timezone.utc)),
    ("刚刚", NOW),
    ("昨天 12:30", datetime(2026, 11, 21, 4, 30, tzinfo=timezone.utc)),
    ("前天", datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc)),
    ("2天前", datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)),
    ("11-20 12:30", datetime(2026, 11, 20, 4, 30, tzinfo=timezone.utc)),
    ("12-31", datetime(2025, 12, 30, 16, 0, tzinfo=timezone.utc)),  # not in the future: last year
    ("2026-11-20 12:30", datetime(2026, 11, 20, 4, 30, tzinfo=timezone.utc)),
    ("2026年11月20日 12:30", datetime(2026, 11, 20, 4, 30, tzinfo=timezone.utc)),
    ("2026-11-20T12:30:00Z", datetime(2026, 11, 20, 12, 30, tzinfo=timezone.utc)),
    ("Fri, 20 Nov 2026 12:30:00 +0800", datetime(2026, 11, 20, 4, 30, tzinfo=timezone.utc)),
    ("1763600000", datetime(2025, 11, 20, 0, 53, 20, tzinfo=timezone.utc)),
    (1763600000123, datetime(2025, 11, 20, 0, 53, 20, 123000, tzinfo=timezone.utc)),
    ("3 hours ago", datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)),
])
def test_dates(text, expected) -> None:
    assert parse_datetime(text, now=NOW) == expected


def test_bad_dates_raise() -> None:
    for bad in ("某天", "", None, "99-99"):
        with pytest.raises(ValueError):
            parse_datetime(bad, now=NOW)


@pytest.mark.parametrize(("value", "expected"), [
    ("star-40", 4.0), ("sml-rank-stars sml-str45", 4.5), ("star45", 4.5), ("四星半", 4.5), ("五星", 5.0),
    ("4.5分", 4.5), ("★★★☆☆", 3.0), (4, 4.0), ("8", None), ("很好", None), (None, None),
])
def test_ratings(value, expected) -> None:
    assert parse_rating(value) == expected


def test_rating_scale_and_counts() -> None:
    assert parse_rating("8", scale=10) == 4.0 and parse_rating(45, scale=50) == 4.5
    assert [parse_count(v) for v in ("1.2万", "1,234", "10w+", "3亿", "1.5k", "abc", "", 7)] == \
        [12000, 1234, 100000, 300000000, 1500, None, None, 7]


def test_field_specs_and_paths() -> None:
    assert FieldSpec.parse("a.permalink@href") == FieldSpec("a.permalink", "href")
    assert FieldSpec.parse("@data-id") == FieldSpec("", "data-id")
    assert FieldSpec.parse('a[href*="@"]@href') == FieldSpec('a[href*="@"]', "href")
    assert FieldSpec.parse(".") == FieldSpec("", None)
    assert check_spec("li[[") and check_spec('a:-soup-contains("下一页")') is None
    data = {"data": {"list": [{"u": {"n": "a"}, "tags": [{"name": "x"}, {"name": "y"}]}]}}
    assert get_path(data, "data.list[0].u.n") == "a"
    assert get_path(data, "data.list[0].tags[].name") == ["x", "y"]
    assert get_path(data, "data.missing.deep") is None and get_path(data, "data.list[5]") is None
