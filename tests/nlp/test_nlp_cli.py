"""``tingfeng nlp score|eval`` round trip on the sub-app."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from tingfeng.commands.nlp import app

runner = CliRunner()


def _write(path, text):
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_score_round_trip(tmp_path):
    src = _write(tmp_path / "in.csv", (
        "id,text,shop\n"
        "1,奶茶很好喝但是店员态度太差,A\n"
        "2,,B\n"
        "3,\"难喝，里面还有头发，我要投诉\",C\n"
        "4,服务热情，环境干净，下次还来,D\n"
    ).encode("utf-8") + b'5,"\xff\xfe broken",E\n')
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["score", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "line 3: missing text; skipped" in result.output
    assert "line 6: broken encoding" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "3", "4"]
    assert list(rows[0]) == ["id", "text", "shop", "score", "label", "touchpoints", "urgent"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["1"]["touchpoints"] == "product:positive;service:negative"
    assert by_id["3"]["label"] == "negative" and by_id["3"]["urgent"] == "头发;投诉"
    assert by_id["4"]["label"] == "positive" and float(by_id["4"]["score"]) > 0.6
    assert by_id["4"]["shop"] == "D"


def test_eval_prints_metrics(tmp_path):
    lines = ["id,text,label"]
    good = ["味道很好，下次还来", "服务热情，很满意", "好喝，推荐", "非常好吃，分量足"]
    bad = ["太难吃了，再也不来", "送得太慢，饭都凉了", "态度很差", "难喝，退钱"]
    lines += [f"p{i},{t},1" for i, t in enumerate(good)] + [f"n{i},{t},0" for i, t in enumerate(bad)]
    lines += ["x,没有标签,"]
    src = _write(tmp_path / "labelled.csv", "\n".join(lines) + "\n")
    result = runner.invoke(app, ["eval", str(src), "--json"])
    assert result.exit_code == 0, result.output
    assert "line 10: missing label; skipped" in result.output
    import json

    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["n"] == 8 and figures["accuracy"] == 1.0 and figures["roc_auc"] == 1.0


def test_unknown_model_and_missing_column(tmp_path):
    src = _write(tmp_path / "in.csv", "id,body\n1,好\n")
    result = runner.invoke(app, ["eval", str(src), "--model", "nope"])
    assert result.exit_code == 2 and "unknown sentiment model" in result.output
    result = runner.invoke(app, ["score", str(src), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "lacks text" in result.output
