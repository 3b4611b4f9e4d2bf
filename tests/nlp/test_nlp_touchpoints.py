from nlp.models import label_for
from nlp.touchpoints import assign, split_clauses, touchpoints


def fake_scores(texts):
    return [0.1 if any(w in t for w in ("差", "慢", "贵", "漏")) else 0.9 for t in texts]


def run(text):
    assigned = assign(text)
    hits = touchpoints(assigned, fake_scores([c.text for c, _ in assigned]), label_for)
    return {h.touchpoint: (h.polarity, h.evidence, text[h.start:h.end]) for h in hits}


def test_contrast_without_punctuation_splits():
    assert [c.text for c in split_clauses("奶茶很好喝但是店员态度太差")] == ["奶茶很好喝", "但是店员态度太差"]
    got = run("奶茶很好喝但是店员态度太差")
    assert got["product"][0] == "positive" and got["service"][0] == "negative"
    assert got["service"][1] == got["service"][2] == "但是店员态度太差"


def test_mixed_review_with_several_touchpoints():
    got = run("外卖送得太慢了，包装也漏了。价格有点贵，不过小程序点单很方便")
    assert {k: v[0] for k, v in got.items()} == {
        "price": "negative", "delivery": "negative", "digital": "positive",
    }


def test_no_touchpoint_no_hit():
    assert run("今天天气不错") == {}


def test_single_characters_inside_other_words_do_not_count():
    assert set(run("里面的座位很干净")) == {"environment"}
    assert run("喜茶今天人好多") == {}


def test_assigner_matches_assign_with_the_same_extra_terms():
    from nlp.touchpoints import assign, assigner

    extra = {"product": ["芝芝莓莓"]}
    text = "芝芝莓莓，店员态度太差，外卖也慢"
    assert assigner(extra)(text) == assign(text, extra)
    assert "product" in [tp for _, tps in assign(text, extra) for tp in tps]
    assert "product" not in [tp for _, tps in assigner()("芝芝莓莓") for tp in tps]
