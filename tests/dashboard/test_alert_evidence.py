"""The alerts page's evidence lines state shares as the email does: corrected with the interval,
样本不足 for too few mentions, never the raw share (pure: dashboard.evidence)."""

from __future__ import annotations

import re

from dashboard.evidence import evidence_lines
from storage.shares import share

NUMBERS = {"window_hours": 6, "negative": 60, "total": 150, "expected_negative": 12.0, "p_value": 1e-9,
           "negative_share": 0.4, "baseline_share": 0.08, "peer_share": 0.075}


def stored(window, usual, peers, corrected=True) -> dict:
    return {"window": share(*window, 0.8, 0.05).as_dict(), "usual": share(*usual, 0.8, 0.05).as_dict(),
            "peers": share(*peers, 0.8, 0.05).as_dict(), "corrected": corrected}


def test_many_mentions_show_corrected_shares_with_intervals():
    lines = dict(evidence_lines({"numbers": NUMBERS, "shares": stored((60, 150), (400, 5000), (3000, 40000))}))
    window, usual = share(60, 150, 0.8, 0.05).display(), share(400, 5000, 0.8, 0.05).display()
    assert window.startswith("47% (") and usual.startswith("4% (")  # (0.40 − 0.05)/0.75, (0.08 − 0.05)/0.75
    assert lines["数据"].startswith(f"近 6 小时，差评 60 条 / 共 150 条；负面占比 {window}；平时同期约 12.0 条；"
                                  f"平时负面占比 {usual}；同类范围 ")
    assert not {"40%", "40.0%", "8%", "8.0%"} & set(re.findall(r"\d+(?:\.\d)?%", lines["数据"]))  # never raw
    assert lines["占比说明"].startswith("占比已按情感模型的误判率校正，括号内为 95% 区间")


def test_few_mentions_say_small_sample_without_a_percentage():
    numbers = {**NUMBERS, "negative": 8, "total": 11, "negative_share": 0.7273}
    lines = dict(evidence_lines({"numbers": numbers, "shares": stored((8, 11), (5, 15), (9, 18), corrected=False)}))
    assert lines["数据"] == ("近 6 小时，差评 8 条 / 共 11 条；负面占比 样本不足 (n=11)；平时同期约 12.0 条；"
                           "平时负面占比 样本不足 (n=15)；同类范围 样本不足 (n=18)；偶然出现的概率 p = 1e-09")
    assert "%" not in lines["数据"] and lines["占比说明"].startswith("占比未校正")


def test_evidence_from_before_stored_shares_shows_counts_only():
    lines = dict(evidence_lines({"numbers": NUMBERS}))
    assert not re.search(r"\d%", lines["数据"]) and "差评 60 条 / 共 150 条" in lines["数据"]
    assert "占比说明" not in lines
