import pytest

from nlp.urgent import is_urgent, urgent_terms


@pytest.mark.parametrize("text, terms", [
    ("奶茶里有头发，太恶心了", ["头发"]),
    ("吃完拉肚子，我要打12315投诉", ["拉肚子", "12315", "投诉"]),
    ("面包过期了还在卖", ["过期"]),
    ("没想到杯子里有虫", ["虫"]),
    ("食物中毒进医院了", ["食物中毒", "进医院"]),
])
def test_urgent(text, terms):
    assert urgent_terms(text) == terms and is_urgent(text)


@pytest.mark.parametrize("text", [
    "检查过了没有异物，放心", "并没有发现虫子", "无过期，新鲜", "不是变质，是本来的味道",
    "冬虫夏草", "花了2315元", "好喝",
])
def test_not_urgent(text):
    assert urgent_terms(text) == [] and not is_urgent(text)


def test_negation_does_not_leak_across_clauses():
    assert urgent_terms("没有排队，但是有头发") == ["头发"]
