"""The demo chain: 青禾茶事, a tea-drink brand with 12 stores in 3 cities and 8 products."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoStore:
    id: str
    name: str
    short: str  # how customers call it: 万象城店
    city: str
    district: str
    address: str
    region: str
    dianping_id: str
    volume: float  # reviews per day on the review platform


@dataclass(frozen=True)
class DemoProduct:
    id: str
    name: str
    category: str
    aliases: tuple[str, ...] = ()
    launched_days_ago: int | None = None  # None: on the menu all along


@dataclass(frozen=True)
class DemoChain:
    brand_id: str = "qinghe"
    brand_name: str = "青禾茶事"
    brand_aliases: tuple[str, ...] = ("青禾", "青禾奶茶")
    regions: tuple[tuple[str, str], ...] = (("sh", "上海区域"), ("hz", "杭州区域"), ("nj", "南京区域"))
    stores: tuple[DemoStore, ...] = field(default_factory=tuple)
    products: tuple[DemoProduct, ...] = field(default_factory=tuple)
    # competitor brands watched for the benchmark: (id, name, aliases, products customers name)
    competitors: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
        ("zhuli", "竹里茶坊", ("竹里",), ("竹香奶茶", "青提冰萃", "桂花乌龙")),
        ("mengcha", "檬茶工坊", ("檬茶坊",), ("手打鸭屎香柠檬茶", "生打椰椰")),
    )
    incident_store: str = "hz-xihu"
    incident_product: str = "liulian"


STORES = (
    DemoStore("sh-wxc", "青禾茶事 上海万象城店", "万象城店", "上海", "闵行区", "吴中路1599号万象城B1", "sh", "H8x1Qa", 4.0),
    DemoStore("sh-jingan", "青禾茶事 静安寺店", "静安寺店", "上海", "静安区", "南京西路1699号", "sh", "H3kP2b", 6.0),
    DemoStore("sh-xujiahui", "青禾茶事 徐家汇店", "徐家汇店", "上海", "徐汇区", "虹桥路1号港汇恒隆广场L1", "sh", "H9mZ7c", 5.0),
    DemoStore("sh-wujiaochang", "青禾茶事 五角场店", "五角场店", "上海", "杨浦区", "淞沪路8号百联又一城", "sh", "H2qL4d", 2.5),
    DemoStore("hz-xihu", "青禾茶事 杭州西湖银泰店", "西湖银泰店", "杭州", "上城区", "延安路98号西湖银泰城", "hz", "K7vT1e", 3.5),
    DemoStore("hz-binjiang", "青禾茶事 滨江龙湖店", "滨江龙湖店", "杭州", "滨江区", "江南大道3850号龙湖天街", "hz", "K1wR5f", 2.0),
    DemoStore("hz-wulin", "青禾茶事 武林广场店", "武林广场店", "杭州", "拱墅区", "武林广场1号杭州大厦", "hz", "K5bN8g", 4.5),
    DemoStore("hz-xixi", "青禾茶事 西溪印象城店", "西溪印象城店", "杭州", "余杭区", "五常大道1号西溪印象城", "hz", "K8cM2h", 1.5),
    DemoStore("nj-xinjiekou", "青禾茶事 新街口店", "新街口店", "南京", "秦淮区", "中山路18号德基广场", "nj", "N4dJ6i", 5.0),
    DemoStore("nj-hexi", "青禾茶事 河西万达店", "河西万达店", "南京", "建邺区", "江东中路98号万达广场", "nj", "N6eH3j", 2.5),
    DemoStore("nj-xianlin", "青禾茶事 仙林金鹰店", "仙林金鹰店", "南京", "栖霞区", "仙林大道5号金鹰湖滨天地", "nj", "N2fG9k", 1.0),
    DemoStore("nj-confucius", "青禾茶事 夫子庙店", "夫子庙店", "南京", "秦淮区", "贡院街152号", "nj", "N9gF1l", 3.0),
)

PRODUCTS = (
    DemoProduct("yangzhi", "杨枝甘露", "果茶", ("杨枝",)),
    DemoProduct("zhishi-putao", "芝士葡萄", "芝士茶", ("芝芝葡萄", "多肉葡萄")),
    DemoProduct("moli-nailv", "茉莉奶绿", "奶茶", ("奶绿",)),
    DemoProduct("heitang", "黑糖波波奶茶", "奶茶", ("黑糖波波", "黑糖奶茶")),
    DemoProduct("ningmeng", "暴打柠檬茶", "果茶", ("柠檬茶",)),
    DemoProduct("taotao", "多肉桃桃", "果茶", ("桃桃",)),
    DemoProduct("shengye", "生椰拿铁", "咖啡", ("生椰",)),
    DemoProduct("liulian", "榴莲冰沙", "冰沙", ("榴莲冰",), launched_days_ago=14),
)


def demo_chain() -> DemoChain:
    """The chain the demo generates reviews for."""
    return DemoChain(stores=STORES, products=PRODUCTS)
