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
