from collections import Counter
from datetime import datetime, timedelta, timezone

from nlp.keywords import complaint_keywords, log_odds, top_keywords
from nlp.pipeline import score_pending
from storage.models import Brand, Mention, Source, Store


def test_log_odds_prefers_over_represented_words_to_frequent_ones():
    target = Counter({"奶茶": 20, "头发": 8, "慢": 6, "一次": 1})
    background = Counter({"奶茶": 300, "好喝": 120, "慢": 10, "头发": 1, "一次": 40})
    ranked = [w for w, _ in top_keywords(target, background, top=3)]
    assert ranked[0] == "头发" and "奶茶" not in ranked and "一次" not in ranked
    z = log_odds(target, background)
    assert z["头发"] > z["慢"] > 0 > z["奶茶"]


def test_log_odds_empty():
    assert log_odds({}, {}) == {} and top_keywords(Counter(), Counter({"a": 3})) == []


class Polar:
    name, version, metadata = "polar", "1", {}

    def score(self, texts):
        return [0.05 if any(w in t for w in ("头发", "难喝", "太慢")) else 0.95 for t in texts]


def test_complaint_keywords_from_the_database(db):
    start = datetime(2026, 11, 16, tzinfo=timezone.utc)
    with db.session() as s:
        s.add(Brand(id="xc", name="喜茶"))
        s.add(Store(id="s1", brand_id="xc", name="喜茶万象城店"))
        s.add(Source(id="src", type="file", platform="dianping", store_id="s1"))
        texts = [(start - timedelta(days=d), "奶茶好喝") for d in range(1, 30)]
        texts += [(start - timedelta(days=3), "今天出杯太慢")]
        texts += [(start + timedelta(hours=h), t) for h, t in enumerate(
            ["奶茶里有头发，太慢", "又是头发！奶茶难喝", "头发在奶茶里", "奶茶很好喝"])]
        for i, (ts, text) in enumerate(texts):
            s.add(Mention(source_id="src", external_id=str(i), text=text, published_at=ts, collected_at=ts,
                          content_hash=str(i)))
    score_pending(db, model=Polar())
    got = complaint_keywords(db, "store", "s1", start, start + timedelta(days=7), top=3)
    assert got[0][0] == "头发" and got[0][1] > 0
    assert "奶茶" not in [w for w, _ in got] and "喜茶万象城店" not in [w for w, _ in got]
    assert complaint_keywords(db, "store", "other", start, start + timedelta(days=7)) == []


def test_function_words_do_not_rank_but_complaint_terms_do():
    from nlp.keywords import document_counts

    negative = ["出餐太慢，之后再也不来", "怀疑饭里有异物", "店员态度太差，之后投诉", "等了之后还是太慢",
                "怀疑不新鲜，态度也差", "外卖有异物，怀疑没洗"]
    history = ["奶茶好喝", "环境不错", "下次还来", "味道可以"] * 5
    ranked = [w for w, _ in top_keywords(document_counts(negative), document_counts(history), top=10)]
    assert {"太慢", "异物", "态度"} <= set(ranked)
    assert "之后" not in ranked and "怀疑" not in ranked


def test_phrases_are_never_names_stopwords_or_broken_segments_and_come_with_an_example():
    from nlp.keywords import complaint_phrases

    names = ["榴莲冰沙", "榴莲冰", "青禾茶事", "青禾茶事 杭州西湖银泰店", "西湖银泰店", "生椰拿铁"]
    target = [(1, "说实话，榴莲冰沙冰沙全是冰碴，榴莲味像香精"), (2, "榴莲冰沙全是冰碴，失望。"),
              (3, "西湖银泰店的榴莲冰沙太腻了，喝完嗓子不舒服"), (4, "榴莲冰沙太腻😡"), (8, "喝完嗓子不舒服"),
              (5, "生椰拿铁料很少，说实话"), (6, "生椰拿铁料太少了，说实话"), (7, "榴莲味像香精，差评")]
    background = ["生椰拿铁很好喝，很舒服的店", "青禾茶事 西湖银泰店环境舒服", "说实话还不错，料很足"] * 10
    got = complaint_phrases(target, background, names, top=10)
    terms = [p.term for p in got]
    assert {"冰碴", "香精", "太腻", "不舒服"} <= set(terms)
    # catalog names and their parts, openers and closers, words across a name's edge, debris
    assert not {"榴莲冰沙", "榴莲", "冰沙", "西湖银泰店", "银泰", "说实话", "失望", "差评", "铁料", "冰沙全", "味像",
                "舒服"} & set(terms)
    assert [p.mentions for p in got] == sorted((p.mentions for p in got), reverse=True)
    by_term = {p.term: p for p in got}
    assert by_term["冰碴"].example_id in (1, 2) and "冰碴" in by_term["冰碴"].example
    assert by_term["太腻"].example == "西湖银泰店的榴莲冰沙太腻了，喝完嗓子不舒服"  # the customer's own words


def test_words_of_the_same_complaints_collapse_into_one_phrase():
    from nlp.keywords import complaint_phrases

    target = [(i, "喝出一股馊味，明显变质了，要求退款店长不理") for i in range(4)] + [(9, "杯底有异物"), (10, "又有异物")]
    background = ["店长人很好", "退款很快", "今天的奶茶好喝"] * 10
    got = complaint_phrases(target, background, top=10)
    assert len([p for p in got if p.mentions == 4]) == 1  # 馊味 / 变质 / 退款 / 店长: one is enough
    assert [p.term for p in got if p.mentions == 2] == ["异物"]
    assert complaint_phrases([], background) == []


def test_fragments_of_product_names_are_never_keywords():
    """榴莲果 (jieba's word in 榴莲果肉) contains 榴莲, a piece of the product 榴莲冰沙."""
    from nlp.keywords import complaint_phrases, name_fragments

    assert {"榴莲", "冰沙"} <= name_fragments(["榴莲冰沙"])
    target = [(i, t) for i, t in enumerate(["榴莲冰沙榴莲果肉很少，太腻", "榴莲果肉少，太腻了", "榴莲果肉不新鲜，太腻"])]
    background = ["奶茶好喝", "环境不错", "店员热情"] * 5
    got = [p.term for p in complaint_phrases(target, background, ["榴莲冰沙"], top=10)]
    assert "太腻" in got and not [t for t in got if "榴莲" in t]
    assert any("榴莲" in p.term for p in complaint_phrases(target, background, [], top=10))


def test_numbers_prices_and_durations_are_quantities_not_complaints():
    from nlp.keywords import is_quantity

    for q in ("二十八", "一个半", "三十块", "2杯", "四十分钟", "小时", "半小时", "好几", "两口", "28元"):
        assert is_quantity(q), q
    for w in ("12315", "315", "太慢", "冰块", "不新鲜", "等了一个小时", "喝不下去", "半价"):
        assert not is_quantity(w), w


def test_a_verb_with_its_complement_is_one_term_never_the_fragment():
    from nlp import segment
    from nlp.keywords import terms

    tok = segment.tokenizer(["榴莲冰沙"])
    got = terms("新品榴莲冰沙太腻了，喝两口就喝不下去", tok, ["榴莲冰沙"])
    assert "喝不下去" in got and not {"不下去", "不下"} & got
    assert "退不了" in terms("真的很难喝，退不了", tok) and "付不了" in terms("点单付不了款", tok)
    # an adverb or a function character before 不/没 is not a verb: 没地方, 不承认 stay as they are
    assert "没地方" in terms("座位太少，根本没地方坐", tok) and "本没地方" not in terms("座位太少，根本没地方坐", tok)
    assert "不承认" in terms("店员做错了单还不承认", tok)
    assert not [t for t in terms("榴莲冰沙又贵又难喝，二十八块一杯不值，外卖送了一个半小时", tok, ["榴莲冰沙"])
                if any(c in t for c in "二十八一半")]


def test_phrases_are_whole_and_distinct_from_what_every_store_complains_about():
    """The scope's complaints against the chain's: 喝不下去 (here only) ranks whole; 音乐, as
    frequent in every store's complaints, and the price 二十八块 never do."""
    from nlp.keywords import complaint_phrases

    target = [(i, t) for i, t in enumerate(
        ["新品太腻了，喝两口就喝不下去", "喝不下去，二十八块一杯不值", "真的喝不下去", "店里太吵了，音乐开得很大",
         "甜到喝不下去，二十八块", "音乐开得很大，太吵", "二十八块买了个教训，喝不下去", "出杯太慢了"])]
    complaints = ["店里太吵了，音乐开得很大", "出杯太慢了", "音乐太吵", "店员态度很差", "出杯太慢"] * 6
    background = complaints + ["奶茶好喝", "环境不错", "店员热情"] * 100
    got = [p.term for p in complaint_phrases(target, background, top=10, complaints=complaints)]
    assert got[0] == "喝不下去"
    assert not {"不下去", "不下", "音乐", "太吵", "太慢"} & set(got)
    assert not [t for t in got if "二十八" in t or "块" in t]
    # compared with everything customers say, 音乐 is a complaint: the comparison with complaints drops it
    alone = [p.term for p in complaint_phrases(target, background, top=10)]
    assert "喝不下去" in alone and "音乐" in alone


def test_the_complaints_to_compare_with_are_the_negatives_before_the_period():
    from nlp.keywords import split_baseline

    start = datetime(2026, 11, 30, tzinfo=timezone.utc)
    rows = [("音乐太吵", "negative", datetime(2026, 11, 20)),  # SQLite: naive UTC
            ("又有头发", "negative", datetime(2026, 12, 1, 8, tzinfo=timezone(timedelta(hours=8)))),
            ("好喝", "positive", datetime(2026, 11, 20, tzinfo=timezone.utc)), (None, "negative", start)]
    background, complaints = split_baseline(rows, start)
    assert background == ["音乐太吵", "又有头发", "好喝", ""] and complaints == ["音乐太吵"]


def test_the_chains_lexicon_keeps_its_words_whole():
    """小程序 is not in jieba's dictionary (小程 + 程序 are); the touchpoint lexicon has it."""
    from nlp import segment, vocabulary
    from nlp.keywords import terms

    words = vocabulary.shipped().words
    assert {"小程序", "没地方坐", "拉肚子"} <= words
    plain, chain = segment.tokenizer(), segment.tokenizer((), words)
    assert {"小程", "程序"} <= terms("小程序老是卡", plain)
    assert terms("小程序老是卡", chain) == {"小程序"}
    assert "没地方坐" in terms("座位太少，根本没地方坐", chain)
    assert terms("等了半天才出杯", chain) == {"等了半天", "出杯"}  # never 天才 across its end


# an alert's scope: a handful of negatives, against 25 earlier complaints the statistic finds nothing in
_EARLIER = ["头发好多，排队太久", "一根头发", "店员态度很差", "太难喝了", "排队排了半天"] * 5
_BACKGROUND = _EARLIER + ["奶茶好喝", "环境不错", "店员热情"] * 30


def test_a_small_scope_the_statistic_cannot_explain_gets_its_lexicon_terms_with_an_example():
    from nlp.keywords import complaint_phrases, filled_complaint_phrases

    target = [(11, "杨枝甘露里有头发，太恶心了"), (12, "又喝出头发。"), (13, "头发！！杨枝甘露退不了"),
              (14, "等了四十分钟"), (15, "杯子漏了")]
    assert complaint_phrases(target, _BACKGROUND, ["杨枝甘露"], complaints=_EARLIER) == []
    got = filled_complaint_phrases(target, _BACKGROUND, ["杨枝甘露"], complaints=_EARLIER)
    assert [(p.term, p.mentions, p.source) for p in got] == [("头发", 3, "lexicon")]  # 漏了: one mention only
    assert got[0].example == "杨枝甘露里有头发，太恶心了" and got[0].example_id == 11 and got[0].score == 0


def test_the_lexicon_fills_in_urgent_terms_once_aspects_with_a_complaint_and_never_a_negated_term():
    from nlp.keywords import lexicon_phrases, lexicon_terms

    assert lexicon_terms("店员态度很差，送餐也太慢了") == {"态度差": ("态度很差", False, "态度"),
                                                     "送餐慢": ("送餐也太慢", False, "送餐")}
    assert lexicon_terms("没有头发，不用排队，服务差不多，也不难喝") == {}
    got = lexicon_phrases([(1, "喝完拉肚子了，态度很差"), (2, "态度太差"), (3, "排队好久"), (4, "一直排队")])
    assert [(p.term, p.mentions) for p in got] == [("态度差", 2), ("排队", 2), ("拉肚子", 1)]
    assert got[0].example == "喝完拉肚子了，态度很差" and got[2].example_id == 1
    assert lexicon_phrases([(1, "排队好久"), (2, "态度太差")]) == []  # a complaint word needs two mentions


def test_the_lexicon_never_fills_in_a_catalog_name_a_stopword_or_what_the_statistic_chose():
    from dataclasses import replace

    from nlp import vocabulary
    from nlp.keywords import Phrase, lexicon_phrases

    target = [(1, "香精奶茶真难喝，头发"), (2, "香精奶茶难喝死了，一根头发"), (3, "难喝，排队半小时"), (4, "排队太久，难喝")]
    names = ["香精奶茶"]  # a product named after a complaint word: never a term, nor inside its name
    assert {p.term for p in lexicon_phrases(target, (), names, need=10)} == {"难喝", "头发", "排队"}
    no_queue = replace(vocabulary.shipped(), stopwords=vocabulary.shipped().stopwords | {"排队"})
    assert {p.term for p in lexicon_phrases(target, (), names, no_queue, need=10)} == {"难喝", "头发"}
    chosen = [Phrase("太难喝", 2, 2.1, "太难喝", 3), Phrase("头发", 2, 1.9, "头发", 1)]
    assert [p.term for p in lexicon_phrases(target, chosen, names)] == ["排队"]  # 难喝 is inside 太难喝
    assert lexicon_phrases(target, chosen + [Phrase("排队", 2, 1.5, "排队", 3)], names) == []
    # the statistic named the aspect already: 态度差 says nothing new after 服务态度
    rude = [(1, "服务态度很差"), (2, "服务态度太差了")]
    assert [p.term for p in lexicon_phrases(rude)] == ["态度差"]
    assert lexicon_phrases(rude, [Phrase("服务态度", 2, 2.0, "服务态度很差", 1)]) == []


def test_a_big_scope_the_statistic_explains_is_left_as_it_is():
    from nlp.keywords import complaint_phrases, filled_complaint_phrases

    target = [(i, t) for i, t in enumerate(
        ["新品太腻了，喝两口就喝不下去", "喝不下去，二十八块一杯不值", "真的喝不下去，排队也久", "冰沙全是冰碴",
         "全是冰碴，不舒服", "喝完嗓子不舒服，排队好久", "冰碴太多，喝不下去", "嗓子不舒服，态度很差", "态度太差"] * 3)]
    stat = complaint_phrases(target, _BACKGROUND, complaints=_EARLIER)
    assert len(stat) >= 3 and filled_complaint_phrases(target, _BACKGROUND, complaints=_EARLIER) == stat


def test_complaint_words_are_touchpoint_words_never_stopwords():
    from nlp import vocabulary

    v = vocabulary.shipped()
    words = {w for _, ws in v.touchpoints for w in ws}
    assert {"难喝", "排队", "不值"} <= v.complaints <= words
    assert not v.complaints & v.stopwords and min(map(len, v.complaints)) >= 2
    assert vocabulary.from_setting({"stopwords": ["哈哈"]}).complaints == v.complaints


def test_filled_phrases_come_most_used_first():
    from nlp.keywords import complaint_phrases, filled_complaint_phrases

    target = [(1, "全是冰碴，难喝"), (2, "全是冰碴"), (6, "冰碴太多"), (3, "难喝"), (4, "真难喝"), (5, "难喝，排队半天")]
    stat = complaint_phrases(target, _BACKGROUND, complaints=_EARLIER)
    got = filled_complaint_phrases(target, _BACKGROUND, complaints=_EARLIER)
    assert [p.term for p in stat] == ["冰碴"]
    assert [(p.term, p.mentions, p.source) for p in got] == [("难喝", 4, "lexicon"), ("冰碴", 3, "statistic")]
