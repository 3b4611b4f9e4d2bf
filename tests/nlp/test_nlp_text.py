from nlp.text import clean, strip_repost_chain, topics


def test_clean_normalises_width_script_and_noise():
    assert clean("ＡＰＰ很難用！！ http://t.cn/A6xyz 網頁链接") == "APP很难用!!"
    assert clean("@小明 #喜茶# 芝芝莓莓太好喝了😍 展开全文c") == "喜茶 芝芝莓莓太好喝了😍"


def test_clean_keeps_emoticons_and_kaomoji():
    assert clean("等了一小时[怒] (╯‵□′)╯︵┻━┻ 😡") == "等了一小时[怒] (╯‵□′)╯︵┻━┻ 😡"


def test_repost_chain_keeps_own_words_or_first_quote():
    assert strip_repost_chain("同感//@甲:太难喝了//@乙:难喝") == "同感"
    assert strip_repost_chain("//@甲:太难喝了//@乙:难喝") == "太难喝了"
    assert clean(None) == "" and clean("") == ""


def test_topics():
    assert topics("＃喜茶＃ 和 #315晚会# 开始了") == ["喜茶", "315晚会"]
