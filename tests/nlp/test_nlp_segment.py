from nlp.segment import content_words, tokenizer, tokens


def test_catalog_names_stay_whole(catalog):
    names = catalog.names()
    assert "喜茶万象城店" not in tokens("昨天去喜茶万象城店买了多肉葡萄")
    words = tokens("昨天去喜茶万象城店买了多肉葡萄", names)
    assert "喜茶万象城店" in words and "多肉葡萄" in words


def test_tokenizer_is_built_once_per_catalog_and_private(catalog):
    import jieba

    names = catalog.names()
    assert tokenizer(names) is tokenizer(list(reversed(names)))
    assert tokenizer(names) is not tokenizer([])
    assert "喜茶万象城店" not in jieba.lcut("喜茶万象城店")  # the global dictionary is untouched


def test_content_words_drop_stopwords_and_punctuation():
    assert content_words("我觉得这个奶茶太甜了！！") == ["奶茶", "太甜"]


def test_catalog_words_do_not_leak_into_other_tokenizers(catalog):
    assert "喜茶万象城店" in tokens("喜茶万象城店", catalog.names())
    assert "喜茶万象城店" not in tokens("喜茶万象城店", ["别的店"])


def test_function_words_are_not_content_words():
    assert content_words("出餐太慢了，之后再也不来") == ["出餐", "太慢", "再也"]
    assert content_words("我怀疑里面有异物") == ["异物"]


def test_stopword_list_never_hides_a_complaint_term():
    from nlp.segment import stopwords
    from nlp.vocabulary import shipped

    stop = stopwords()
    assert {"之后", "怀疑", "的", "觉得"} <= stop
    lexicon = {t for _, terms in shipped().touchpoints for t in terms}
    assert not stop & (lexicon | set(shipped().urgent.terms) | {"太慢", "很差"})


def test_keywords_are_the_first_distinct_content_words_of_a_long_text():
    from nlp.pipeline import MAX_KEYWORDS, _keywords
    from nlp.segment import iter_content_words

    text = "店员态度很差，出餐太慢，奶茶太甜，珍珠太硬，环境很吵，座位不够，价格太贵，外卖洒了，" * 3
    words = content_words(text)
    assert list(iter_content_words(text, tokenizer())) == words
    distinct = list(dict.fromkeys(w for w in words if len(w) >= 2))
    assert len(distinct) > MAX_KEYWORDS
    assert _keywords(text, tokenizer()) == distinct[:MAX_KEYWORDS]
