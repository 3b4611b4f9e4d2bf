from nlp.linking import Evidence, link


def test_bound_source_wins_over_text(catalog):
    r = link("海岸城店的多肉葡萄好喝", catalog, Evidence(store_id="ht-mixc"))
    assert (r.store_id, r.brand_id, r.region_id, r.confidence) == ("ht-mixc", "heytea", "south", 1.0)
    assert r.product_id == "grape"


def test_platform_shop_id_hint(catalog):
    r = link("味道一般", catalog, Evidence(store_hint="M9"))
    assert (r.store_id, r.brand_id) == ("yd-mixc", "yidiandian")
    assert r.confidence == 0.95


def test_alias_and_name(catalog):
    r = link("喜茶海岸城店出杯好快", catalog)
    assert r.store_id == "ht-coast" and r.confidence == 0.9
    r = link("海岸城店出杯好快", catalog)
    assert r.store_id == "ht-coast" and r.brand_id == "heytea" and r.confidence == 0.8


def test_ambiguous_alias_stays_brand_level_unless_the_brand_decides(catalog):
    r = link("万象城店排队好久", catalog)
    assert r.store_id is None and r.brand_id is None
    assert {(x.id, x.confidence) for x in r.links} == {("ht-mixc", 0.4), ("yd-mixc", 0.4)}
    r = link("一点点万象城店 排队好久", catalog)
    assert r.store_id == "yd-mixc"
    r = link("一点点的万象城店排队好久", catalog)
    assert r.store_id == "yd-mixc" and r.confidence == 0.8


def test_exclusion_word_stops_a_false_brand_match(catalog):
    assert link("这杯有一点点甜", catalog).brand_id is None
    assert link("今天喝了一点点，有一点点甜", catalog).brand_id == "yidiandian"


def test_address_fragment(catalog):
    assert link("深南大道9668号那家奶茶店", catalog).store_id == "ht-mixc"


def test_unlinked_mention_keeps_the_bound_brand(catalog):
    r = link("天气真好", catalog, Evidence(brand_id="heytea"))
    assert (r.brand_id, r.store_id, r.product_id) == ("heytea", None, None)


def test_competitor_brand_keeps_its_mentions_and_never_becomes_the_default():
    from types import SimpleNamespace as Row

    from nlp.linking import Catalog

    cat = Catalog.from_rows(
        [Row(id="qinghe", name="青禾茶事", aliases=["青禾"], exclude=[], kind=None),
         Row(id="zhuli", name="竹里茶坊", aliases=["竹里"], exclude=[], kind="competitor")],
        [Row(id="s1", name="青禾茶事 静安寺店", aliases=["静安寺店"], brand_id="qinghe", region_id=None,
             platform_ids={}, address="")],
        [Row(id="yangzhi", name="杨枝甘露", aliases=[], brand_id="qinghe")],
    )
    r = link("竹里茶坊的杨枝甘露太甜了", cat)
    assert (r.brand_id, r.product_id, r.store_id) == ("zhuli", None, None)  # not our 杨枝甘露
    r = link("杨枝甘露太甜了", cat)
    assert (r.brand_id, r.product_id) == ("qinghe", "yangzhi")
    r = link("今天天气不错", cat)
    assert r.brand_id == "qinghe"  # the one own brand is the default; the competitor is not counted
