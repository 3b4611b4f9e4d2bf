"""The labelled sentences of bench/lexicon.py: crafted and real-style, written for #16.

Each row: text, urgent (1/0), touchpoints (space-separated keys), kind. Sentences are
combined from hand-written clauses with a few product and store names, including hard
negatives: negation, hedges (worries, wishes, conditionals: the ``HEDGE`` rows, with
reports that follow a hedge), hyperbole and slang, product names and unrelated uses of a
term (优惠券过期, 曝光率, 过敏体质). Nothing comes from ../shared/data.
"""

from __future__ import annotations

from itertools import product as cross

PRODUCTS = ("杨枝甘露", "榴莲冰沙", "生椰拿铁", "黑糖波波奶茶", "芝士葡萄", "多肉桃桃", "暴打柠檬茶")

# (clause with {p}, urgent, touchpoints)
URGENT = [
    ("{p}里喝出一根头发", 1, "product"), ("{p}喝完肚子疼了一晚上", 1, "product"), ("喝了{p}上吐下泻", 1, "product"),
    ("{p}喝完住院了", 1, "product"), ("这家店有严重的食品安全问题，{p}里有虫子", 1, "product"),
    ("{p}变质了，一股馊味", 1, "product"), ("喝完{p}全身过敏起疹子", 1, "product"),
    ("{p}里吃出一块塑料片", 1, "product"), ("{p}喝完拉肚子，我要打12315投诉", 1, "product"),
    ("{p}的果肉发霉了", 1, "product"), ("没多久就闹肚子，{p}肯定有问题", 1, "product"),
    ("{p}没喝完就吐了", 1, "product"), ("怀疑{p}食物中毒，去了医院挂水", 1, "product"),
    ("{p}里有只苍蝇，店员还不承认", 1, "product service"), ("喝了{p}胃疼到急诊", 1, "product"),
    ("{p}是过期的原料做的，已经举报到市场监管", 1, "product"),
]
HARD_NEGATIVE = [
    ("没有吃出头发，也没有变质，放心喝{p}", 0, "product"), ("{p}喝了也不过敏，很友好", 0, "product"),
    ("{p}好喝到想报警", 0, "product"), ("担心{p}太冰会拉肚子，结果没事", 0, "product"),
    ("{p}的优惠券过期了，有点可惜", 0, "product price"), ("{p}拍照曝光率很高", 0, "product environment"),
    ("过敏体质慎点{p}，含芒果", 0, "product"), ("{p}好吃到中毒，天天想喝", 0, "product"),
    ("排队等{p}等得头发都白了", 0, "product service"), ("{p}拉肚子倒是没有，就是太甜", 0, "product"),
    ("医院住院部旁边的店，{p}不错", 0, "product environment"), ("冬虫夏草味的{p}？开玩笑的，很好喝", 0, "product"),
    ("我吐了，{p}排队两小时", 0, "product service"), ("{p}无过期无变质，新鲜", 0, "product"),
    ("检查过了{p}没有异物", 0, "product"), ("吃完{p}去医院看朋友", 0, "product"),
]
PLAIN = [
    ("{p}很好喝，店员态度也好", 0, "product service"), ("{p}太甜了，价格还贵", 0, "product price"),
    ("外卖送的{p}洒了一半", 0, "product delivery"), ("小程序点{p}老是闪退", 0, "product digital"),
    ("店里环境干净，{p}一般", 0, "product environment"), ("{p}性价比很高", 0, "product price"),
    ("骑手超时一小时，{p}都化了", 0, "product delivery"), ("会员积分换了一杯{p}", 0, "product digital"),
    ("店员一直推{p}，有点烦", 0, "product service"), ("座位太少，{p}只能站着喝", 0, "product environment"),
]
# worries, wishes and conditionals (nothing happened) and reports after a hedge (it did)
HEDGE = [
    ("有点担心喝{p}会不会拉肚子", 0, "product"), ("担心{p}喝了会拉肚子，先买一杯试试", 0, "product"),
    ("第一次喝{p}，希望不要拉肚子", 0, "product"), ("怕过敏，{p}让店员去掉芒果", 0, "product service"),
    ("万一{p}过期了怎么办，日期看不清", 0, "product"), ("如果{p}里有头发就直接投诉", 0, "product"),
    ("但愿喝完{p}别拉肚子，冰的喝太多了", 0, "product"), ("{p}是否会引起过敏？想问问成分", 0, "product"),
    ("孕妇喝{p}会不会过敏啊", 0, "product"), ("害怕{p}太凉喝了肚子疼，点了常温", 0, "product"),
    ("肠胃不好，生怕喝{p}闹肚子", 0, "product"), ("要是{p}变质了店家会退吗", 0, "product"),
    ("不知道{p}会不会有虫，放了一晚上", 0, "product"),
    ("本来担心{p}会拉肚子，结果真的拉肚子了", 1, "product"), ("担心的事还是发生了，喝完{p}拉肚子一晚上", 1, "product"),
    ("有点怕过敏，喝了{p}还是起疹子了", 1, "product"), ("担心会拉肚子果然喝完{p}就拉肚子了", 1, "product"),
    ("不知道会不会拉肚子，反正喝完{p}已经吐了", 1, "product"), ("希望不要有事，可是喝完{p}一直肚子疼", 1, "product"),
    ("万一再过敏怎么办？上次喝{p}过敏进了急诊", 1, "product"), ("如果是{p}的问题，我喝完拉肚子了要索赔", 1, "product"),
    ("怕冷没加冰，{p}喝完还是拉肚子了", 1, "product"), ("担心的事发生了喝完{p}拉肚子一晚上", 1, "product"),
]
NO_PRODUCT = [
    ("今天天气不错，逛街路过", 0, ""), ("店员态度很差，爱答不理", 0, "service"), ("门口垃圾桶都满了，有异味", 0, "environment"),
    ("排队四十分钟才拿到", 0, "service"), ("扫码支付一直失败", 0, "digital"), ("配送费比饮品还贵", 0, "price delivery"),
    ("吃完拉肚子了，再也不来", 1, ""), ("我要去消协投诉这家店", 1, ""), ("店里有老鼠跑过去", 1, "environment"),
    ("外卖封口没封好，漏了一袋子", 0, "delivery"), ("厕所很脏，地面油腻腻的", 0, "environment"),
    ("券码核销不了，客服也不回", 0, "digital service"), ("没想到杯子里有虫", 1, ""),
    ("不知道是不是变质了，味道很怪", 1, "product"), ("会员过期了还在扣费", 0, "digital"),
    ("好吃到哭", 0, "product"), ("服务员不耐烦，还翻白眼", 0, "service"), ("买一送一活动很划算", 0, "price"),
    ("这是第一次来，氛围不错", 0, "environment"), ("听说有人吃了食物中毒", 1, ""),
]


def rows() -> list[tuple[str, int, str, str]]:
    """Every labelled sentence: (text, urgent, touchpoints, kind)."""
    out = []
    for (clause, urgent, tps), p in cross(URGENT, PRODUCTS):
        out.append((clause.format(p=p), urgent, tps, "urgent"))
    for (clause, urgent, tps), p in cross(HARD_NEGATIVE, PRODUCTS):
        out.append((clause.format(p=p), urgent, tps, "hard_negative"))
    for (clause, urgent, tps), p in cross(HEDGE, PRODUCTS):
        out.append((clause.format(p=p), urgent, tps, "hedge"))
    for (clause, urgent, tps), p in cross(PLAIN, PRODUCTS):
        out.append((clause.format(p=p), urgent, tps, "plain"))
    out += [(c, u, t, "no_product") for c, u, t in NO_PRODUCT]
    return out
