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


@pytest.mark.parametrize("text, terms", [
    ("这家店有严重的食品安全问题", ["食品安全问题"]),
    ("吃完肚子疼了一晚上", ["肚子疼"]),
    ("喝完住院了", ["住院"]),
    ("没多久就拉肚子了", ["拉肚子"]),  # 没多久 is not a negation
    ("没喝完就吐了", ["吐了"]),  # 就 ends the negation's reach
    ("喝完全身过敏起疹子", ["过敏", "起疹子"]),
])
def test_new_terms_and_negation_look_alikes_are_urgent(text, terms):
    assert urgent_terms(text) == terms


@pytest.mark.parametrize("text", [
    "没有吃出头发，也没有变质，放心", "吃了也不过敏", "拉肚子倒是没有，就是太甜", "优惠券过期了",
    "担心会拉肚子", "好喝到想报警", "过敏体质慎点芒果",
])
def test_negated_hedged_and_unrelated_uses_are_not_urgent(text):
    assert urgent_terms(text) == []


def test_the_model_does_not_see_negated_complaints():
    from nlp.models import get_model
    from nlp.scoring import score_texts
    from nlp.urgent import neutralised

    assert neutralised("没有吃出头发，也没有变质，放心") == "，也，放心"
    assert neutralised("奶茶里有头发") == "奶茶里有头发"
    got = score_texts(["没有吃出头发，也没有变质，放心"], get_model())[0]
    assert got.label != "negative" and not got.urgent_terms


def test_a_chain_adds_its_own_terms():
    from nlp.vocabulary import shipped

    vocab = shipped().extended({"urgent": ["玻璃杯碎了"], "urgent_exclude": ["头发丝般细"]})
    assert urgent_terms("玻璃杯碎了划到手", vocab.urgent) == ["玻璃杯碎了"]
    assert urgent_terms("头发丝般细的面条", vocab.urgent) == []
    assert urgent_terms("玻璃杯碎了划到手") == []


@pytest.mark.parametrize("text", [
    "有点担心会不会拉肚子", "担心吃了会拉肚子", "希望不要拉肚子", "怕过敏", "但愿别拉肚子", "不知道会不会拉肚子",
    "是否会过敏", "万一喝了过敏怎么办", "如果有头发就投诉",  # 就 does not end a condition's reach
    "担心杨枝甘露太冰会拉肚子，结果没事",  # a hedge reaches the whole clause, not only `window`
])
def test_a_worry_wish_or_condition_is_not_urgent(text):
    assert urgent_terms(text) == []


@pytest.mark.parametrize("text, terms", [
    ("吃完拉肚子了", ["拉肚子"]),
    ("担心的事还是发生了，拉肚子一晚上", ["拉肚子"]),  # the hedge stays in its clause
    ("担心会拉肚子，果然拉肚子了", ["拉肚子"]),
    ("担心会拉肚子果然拉肚子了", ["拉肚子"]),  # 果然 ends the hedge inside the clause
    ("担心的事发生了喝完拉肚子一晚上", ["拉肚子"]),
    ("会不会是变质了，味道很怪", ["变质"]),  # a suspicion about now, not a worry about later
    ("怕是变质了", ["变质"]), ("怕冷没加冰就拉肚子了", ["拉肚子"]),  # 怕 that is no worry
    ("要不是拉肚子我也不会投诉", ["拉肚子"]), ("要是早知道会拉肚子就不喝了", ["拉肚子"]),  # counterfactuals: it happened
])
def test_a_report_after_or_beside_a_hedge_is_urgent(text, terms):
    assert urgent_terms(text) == terms


def test_negation_still_cancels_and_keeps_its_short_reach():
    assert urgent_terms("没有吃出头发，也没有变质，放心") == []
    assert urgent_terms("没喝完就吐了") == ["吐了"]
    assert urgent_terms("没有排队的那家店里喝到头发") == ["头发"]  # 没有 is beyond `window`


def test_hedges_and_their_breaks_are_data():
    from dataclasses import replace

    from nlp.vocabulary import shipped

    lex = shipped().urgent
    assert urgent_terms("盼着别拉肚子", replace(lex, hedges=(*lex.hedges, "盼着别"))) == []
    assert urgent_terms("担心会拉肚子果然拉肚子了", replace(lex, hedge_breaks=())) == []
