"""Realistic demo mentions: reviews and social posts written from varied templates with
real touchpoint vocabulary, with two planted incidents.

Incidents:
1. food safety at ``chain.incident_store``: over the last ~30 hours a wave of reviews
   about 拉肚子 / 头发 / 异物, far above the store's normal 15% negative share;
2. a disliked new product ``chain.incident_product``: launched two weeks ago to a fair
   welcome, then over the last 3 days a promotion pushed it and it turns mostly negative
   in every store.

Pure: everything derives from the seed and ``now``; no I/O.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tingfeng.demo.chain import DemoChain, DemoProduct, DemoStore

SHANGHAI = timezone(timedelta(hours=8))

POSITIVE = {
    "product": [
        "{p}很好喝，茶味浓郁不会太甜", "{p}果肉超多，料很足", "{p}口感清爽，冰度刚刚好", "新出的{p}真的惊艳，会回购",
        "{p}一如既往的稳定，好喝", "{p}奶盖绵密，茶底很香", "{p}甜度可以选，三分糖刚好", "{p}新鲜，喝得出是现做的",
    ],
    "service": [
        "店员小姐姐态度超好", "出杯速度很快，没怎么等", "店员很耐心地帮我推荐", "服务热情，还提醒我趁冰喝",
        "排队的人多但是出餐挺快", "店员很专业，做得很规范",
    ],
    "environment": [
        "店里很干净，装修也好看", "座位挺多，适合坐下来聊天", "环境整洁明亮，拍照很出片", "店面干净卫生，看着放心",
    ],
    "price": [
        "性价比很高", "用了优惠券很划算", "价格合理，分量足", "第二杯半价，超值", "会员日活动很给力",
    ],
    "delivery": [
        "外卖送得很快，还是冰的", "包装很用心，一点没洒", "骑手准时送达，包装严实", "外卖半小时就到了，很满意",
    ],
    "digital": [
        "小程序点单很方便，不用排队", "会员积分可以换饮品，不错", "APP下单到店直接取，很省事", "小程序领券再下单很划算",
    ],
}

NEGATIVE = {
    "product": [
        "{p}太甜了，根本喝不出茶味", "{p}里的冰太多，喝两口就没了", "{p}味道很淡，像兑了水", "{p}料很少，和图片差太多",
        "{p}不新鲜，水果有股怪味", "{p}这次做得很难喝，失望", "{p}温度不对，热饮送来是凉的",
    ],
    "service": [
        "店员态度很差，爱答不理", "等了四十分钟才出杯，太慢了", "排队排了半小时，出餐慢", "店员做错了单还不承认",
        "服务员一直在聊天不理人", "催了好几次都没人管",
    ],
    "environment": [
        "店里很脏，桌子上都是水渍", "座位太少，根本没地方坐", "店里太吵了，音乐开得很大", "卫生堪忧，垃圾桶都满了",
    ],
    "price": [
        "价格太贵了，不值这个价", "一杯快三十块，性价比太低", "优惠券用不了，感觉被套路", "涨价了分量还变少了",
    ],
    "delivery": [
        "外卖送了一个半小时，冰都化了", "外卖洒了一半，包装太差", "骑手送错了地址，很糟糕", "外卖送到全洒了，杯子都没封好",
    ],
    "digital": [
        "小程序老是卡，点单付不了款", "会员积分莫名其妙清零了", "APP下单后店里说没收到单", "小程序显示有货到店说卖完了",
    ],
}

OPENERS_POS = ["", "", "第二次来了，", "和朋友一起来，", "下班路过，", "周末打卡，", "今天下午来的，"]
OPENERS_NEG = ["", "", "说实话，", "这次体验不太好，", "吐槽一下，", "唉，"]
CLOSERS_POS = ["", "", "推荐！", "还会再来的～", "👍", "五星好评", "爱了爱了"]
CLOSERS_NEG = ["", "", "不会再来了。", "希望改进吧。", "😡", "失望。", "差评。"]
NEUTRAL = ["今天点了{p}，{s}店，正常水平吧", "{p}还行，中规中矩", "路过买了一杯{p}，和平时差不多"]

FOOD_SAFETY = [
    "喝完{p}之后拉肚子拉了一晚上，怀疑不新鲜", "{p}里面喝出一根头发，太恶心了", "{p}杯底有黑色异物，店员还说正常",
    "今天在{s}买的{p}，全家喝完都拉肚子，已经打12315投诉", "{p}里有虫子！！！卫生太差了", "{s}的{p}喝了肚子疼，怀疑食物中毒",
    "{p}喝出一股馊味，明显变质了，要求退款店长不理", "朋友和我都拉肚子了，就是昨天在{s}喝的{p}，准备曝光",
]
NEW_PRODUCT_EARLY_POS = ["新品{p}尝鲜，榴莲味很浓，喜欢的会很爱", "{p}挺有特色的，榴莲控必点", "{p}绵密，榴莲果肉不少"]
NEW_PRODUCT_NEG = [
    "新品{p}太腻了，喝两口就喝不下去", "{p}一股奇怪的味道，完全不像榴莲", "{p}又贵又难喝，二十八一杯不值",
    "被推荐了{p}，真的很难喝，退不了", "{p}冰沙全是冰碴，榴莲味像香精", "{p}甜到发齁，喝完嗓子不舒服",
    "店员一直推{p}，结果踩雷了，难喝", "{p}口感很差，冰和料是分开的",
]
AUTHORS = ["小鹿", "Momo", "阿杰", "奶茶续命", "橙子", "吃货小王", "Lily", "周末不加班", "Kiki", "大白", "糖三分",
           "晴天", "阿May", "程序员老李", "学生党", "Yuki", "木子", "小太阳", "芒果布丁", "一只猫"]


@dataclass(frozen=True)
class DemoMention:
    """One generated review or post, as the demo site will serve it."""

    id: str
    channel: str  # dianping | weibo | xhs
    store_id: str | None
    product_id: str | None
    author: str
    text: str
    rating: int | None  # 1–5 stars on review platforms
    published_at: datetime  # UTC-aware
    planted: str | None = None  # which incident this belongs to, for tests
    brand_id: str | None = None  # a competitor's post (served on its own keyword feed); None: ours


def _compose(rng: random.Random, positive: bool, product: DemoProduct, store: DemoStore) -> str:
    bank = POSITIVE if positive else NEGATIVE
    touchpoints = rng.sample(list(bank), k=rng.choice((1, 1, 2)))
    if "product" not in touchpoints and rng.random() < 0.6:
        touchpoints[0] = "product"
    parts = [rng.choice(bank[t]) for t in touchpoints]
    if rng.random() < 0.2:  # mixed review: one clause of the other polarity
        other = NEGATIVE if positive else POSITIVE
        parts.append(("不过" if positive else "但是") + rng.choice(other[rng.choice(list(other))]))
    opener = rng.choice(OPENERS_POS if positive else OPENERS_NEG)
    closer = rng.choice(CLOSERS_POS if positive else CLOSERS_NEG)
    text = opener + "，".join(parts) + "。" + closer
    return text.format(p=product.name, s=store.short)


def _vary(rng: random.Random, core: str, positive: bool, product: DemoProduct, store: DemoStore) -> str:
    """A template sentence dressed as customers write it: opener, an aside, a closer."""
    opener = rng.choice(OPENERS_POS if positive else OPENERS_NEG)
    bank = POSITIVE if positive else NEGATIVE
    aside = "，" + rng.choice(bank[rng.choice(("service", "environment", "price"))]) if rng.random() < 0.5 else ""
    closer = rng.choice(CLOSERS_POS if positive else CLOSERS_NEG)
    return (opener + core + aside + "。" + closer).format(p=product.name, s=store.short)


def _time_of_day(rng: random.Random) -> float:
    """Hours after local midnight, peaking at lunch and late afternoon (tea time)."""
    peak = rng.choices((12.5, 15.5, 19.0), weights=(3, 4, 3))[0]
    return min(23.9, max(8.0, rng.gauss(peak, 1.6)))


def _id(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:12]


def generate(chain: DemoChain, *, now: datetime, days: int = 60, seed: int = 20261122) -> list[DemoMention]:
    """Every demo mention over ``days`` up to ``now``, oldest first."""
    rng = random.Random(seed)
    out: list[DemoMention] = []
    today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    regular = [p for p in chain.products if p.launched_days_ago is None]
    new = next(p for p in chain.products if p.id == chain.incident_product)

    def stamp(day: datetime, hour: float) -> datetime | None:
        t = (day + timedelta(hours=hour)).astimezone(timezone.utc)
        return t if t <= now else None

    for d in range(days, -1, -1):
        day = today - timedelta(days=d)
        weekend = day.weekday() >= 5
        for store in chain.stores:
            lam = store.volume * (1.4 if weekend else 1.0)
            for _ in range(_poisson(rng, lam)):
                product = rng.choice(regular)
                # launch, then a promotion push over the last 3 days: more orders, and a complaint wave
                share = 0.35 if d <= 2 else 0.15
                if new.launched_days_ago is not None and d <= new.launched_days_ago and rng.random() < share:
                    product = new
                planted = None
                if product is new:
                    recent = d <= 2
                    positive = rng.random() < (0.15 if recent else 0.75)
                    text = _vary(rng, rng.choice(NEW_PRODUCT_EARLY_POS if positive else NEW_PRODUCT_NEG), positive,
                                 new, store)
                    planted = "product" if recent and not positive else None
                else:
                    roll = rng.random()
                    if roll < 0.05:
                        positive, text = None, rng.choice(NEUTRAL).format(p=product.name, s=store.short)
                    else:
                        positive = roll > 0.2
                        text = _compose(rng, positive, product, store)
                rating = _rating(rng, positive)
                t = stamp(day, _time_of_day(rng))
                if t is None:
                    continue
                out.append(DemoMention(
                    id=_id("dp", store.id, len(out)), channel="dianping", store_id=store.id, product_id=product.id,
                    author=rng.choice(AUTHORS), text=text, rating=rating, published_at=t, planted=planted,
                ))
        # social posts about the brand, naming a store now and then
        for _ in range(_poisson(rng, 7.0)):
            store = rng.choice(chain.stores)
            product = rng.choice(regular)
            positive = rng.random() > 0.25
            body = _compose(rng, positive, product, store)
            named = rng.random() < 0.5
            text = f"#{chain.brand_name}# " + (f"在{store.short}，" if named else "") + body
            t = stamp(day, _time_of_day(rng))
            if t is None:
                continue
            channel = rng.choice(("weibo", "xhs"))
            out.append(DemoMention(
                id=_id(channel, len(out)), channel=channel, store_id=store.id if named else None,
                product_id=product.id, author=rng.choice(AUTHORS), text=text, rating=None, published_at=t,
            ))

    incident = next(s for s in chain.stores if s.id == chain.incident_store)
    for i in range(14):  # the food-safety wave: ~14 reviews in the last 30 hours
        product = rng.choice(regular)
        t = now - timedelta(hours=rng.uniform(0.5, 30))
        out.append(DemoMention(
            id=_id("dp-incident", i), channel="dianping", store_id=incident.id, product_id=product.id,
            author=rng.choice(AUTHORS), text=_vary(rng, rng.choice(FOOD_SAFETY), False, product, incident),
            rating=1, published_at=t, planted="store",
        ))
    for i in range(3):  # and it reaches social media
        t = now - timedelta(hours=rng.uniform(1, 20))
        out.append(DemoMention(
            id=_id("wb-incident", i), channel="weibo", store_id=incident.id, product_id=None,
            author=rng.choice(AUTHORS),
            text=f"#{chain.brand_name}# {incident.short}" + rng.choice(FOOD_SAFETY).format(p="奶茶", s=incident.short),
            rating=None, published_at=t, planted="store",
        ))
    out.extend(_competitor_posts(chain, now=now, today=today, days=days, seed=seed))
    out.sort(key=lambda m: m.published_at)
    return out


# how often each competitor's posts are negative: one steadier than us, one worse on delivery
COMPETITOR_NEGATIVE = {"zhuli": (0.18, ("product", "price")), "mengcha": (0.35, ("delivery", "service"))}


def _competitor_posts(chain: DemoChain, *, now: datetime, today: datetime, days: int, seed: int) -> list[DemoMention]:
    """Social posts about the competitor brands (the keyword feeds catch them too).

    A separate random stream, so adding competitors leaves the chain's own mentions unchanged.
    """
    rng = random.Random(seed + 1)
    out: list[DemoMention] = []
    for brand_id, name, _aliases, products in chain.competitors:
        share, weak = COMPETITOR_NEGATIVE.get(brand_id, (0.25, ()))
        for d in range(days, -1, -1):
            day = today - timedelta(days=d)
            for _ in range(_poisson(rng, 3.0)):
                negative = rng.random() < share
                bank = NEGATIVE if negative else POSITIVE
                touchpoint = rng.choice(weak) if negative and weak and rng.random() < 0.6 else rng.choice(list(bank))
                body = rng.choice(bank[touchpoint]).format(p=rng.choice(products), s="")
                opener = rng.choice(OPENERS_NEG if negative else OPENERS_POS)
                closer = rng.choice(CLOSERS_NEG if negative else CLOSERS_POS)
                t = (day + timedelta(hours=_time_of_day(rng))).astimezone(timezone.utc)
                if t > now:
                    continue
                out.append(DemoMention(
                    id=_id("weibo", brand_id, d, len(out)), channel="weibo", store_id=None, product_id=None,
                    author=rng.choice(AUTHORS), text=f"#{name}# {opener}{body}。{closer}", rating=None, published_at=t,
                    brand_id=brand_id,
                ))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; lam is small here."""
    import math

    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _rating(rng: random.Random, positive: bool | None) -> int:
    if positive is None:
        return 3
    return rng.choice((4, 5, 5)) if positive else rng.choice((1, 1, 2, 3))
