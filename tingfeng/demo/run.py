"""``tingfeng demo``: a whole chain's week of work in one command.

Generates the demo chain's reviews and posts, serves them from a local site on loopback,
writes a catalog pointing at it, and runs collect → score → rollups → detect → notify →
deliver (to a local SMTP sink capturing ``.eml`` files) plus last week's digest.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from sqlmodel import func, select

from storage import Database
from storage.models import Alert, Mention, MentionAnalysis, Notification, utcnow
from tingfeng import jobs
from tingfeng.demo.chain import DemoChain, demo_chain
from tingfeng.demo.generator import generate
from tingfeng.demo.mailsink import MailSink
from tingfeng.demo.site import DemoSite
from tingfeng.jobs import Context
from tingfeng.settings import Settings

RECIPIENTS = [
    {"name": "张敏", "role": "marketing", "email": "zhangmin@qinghe.example", "brands": ["qinghe"]},
    {"name": "李总", "role": "hq", "email": "ceo@qinghe.example", "brands": ["qinghe"]},
    {"name": "运维值班", "role": "admin", "email": "ops@qinghe.example", "digest": False},
    {"name": "陈静", "role": "area_manager", "email": "chenjing@qinghe.example", "regions": ["sh"]},
    {"name": "王磊", "role": "area_manager", "email": "wanglei@qinghe.example", "regions": ["hz"],
     "escalates_to": ["张敏"]},
    {"name": "刘洋", "role": "area_manager", "email": "liuyang@qinghe.example", "regions": ["nj"]},
    {"name": "赵雪", "role": "manager", "email": "zhaoxue@qinghe.example", "stores": ["hz-xihu"],
     "escalates_to": ["王磊"]},
    {"name": "孙浩", "role": "manager", "email": "sunhao@qinghe.example", "stores": ["sh-wxc"],
     "escalates_to": ["陈静"]},
]


def _toml(value: object) -> str:
    """A TOML value for str/int/float/bool/list/dict (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def _table(name: str, rows: list[dict]) -> str:
    return "".join(f"\n[[{name}]]\n" + "".join(f"{_key(k)} = {_toml(v)}\n" for k, v in row.items()) for row in rows)


def demo_catalog(chain: DemoChain, base_url: str) -> str:
    """The catalog TOML for the demo chain, its sources pointing at ``base_url``."""
    brands = [{"id": chain.brand_id, "name": chain.brand_name, "aliases": list(chain.brand_aliases)}]
    brands += [{"id": cid, "name": name, "aliases": list(aliases), "type": "competitor"}
               for cid, name, aliases, _ in chain.competitors]
    regions = [{"id": rid, "name": name} for rid, name in chain.regions]
    stores = [
        {"id": s.id, "name": s.name, "city": s.city, "district": s.district, "address": s.address,
         "region": s.region, "aliases": [s.short], "platform_ids": {"dianping": s.dianping_id}}
        for s in chain.stores
    ]
    products = [{"id": p.id, "name": p.name, "category": p.category, "aliases": list(p.aliases)} for p in chain.products]
    sources = [
        {"id": f"dianping-{s.id}", "name": f"大众点评 · {s.short}", "type": "html", "platform": "dianping", "schedule": "*/30 * * * *", "store": s.id,
         "options": {
             "url": f"{base_url}/shop/{s.id}/reviews?page=1",
             "item": "li.review",
             "fields": {"id": "@data-id", "text": "p.content", "author": "span.name", "time": "span.time",
                        "rating": "span.star@class", "link": "a.permalink@href", "product": "span.dish"},
             "time_format": "%Y-%m-%d %H:%M",
             "next": "a.next@href",
             "max_pages": 50,
         }}
        for s in chain.stores
    ]
    sources += [
        {"id": "weibo-keyword", "name": f"微博 · {chain.brand_name}关键词", "type": "feed", "platform": "weibo", "schedule": "*/15 * * * *",
         "options": {"url": f"{base_url}/feeds/weibo.xml"}},
        {"id": "xhs-keyword", "name": f"小红书 · {chain.brand_name}关键词", "type": "feed", "platform": "xhs", "schedule": "*/15 * * * *",
         "options": {"url": f"{base_url}/feeds/xhs.json"}},
    ]
    sources += [  # competitor keyword subscriptions, bound to the competitor brand
        {"id": f"weibo-{cid}", "name": f"微博 · 竞品{cname}", "type": "feed", "platform": "weibo", "schedule": "*/30 * * * *", "brand": cid,
         "options": {"url": f"{base_url}/feeds/competitor-{cid}.xml"}}
        for cid, cname, *_ in chain.competitors
    ]
    header = (
        "# 听风 demo catalog, written by `tingfeng demo` — a tea-drink chain with 12 stores.\n"
        'timezone = "Asia/Shanghai"\n'
    )
    return (
        header + _table("brands", brands) + _table("regions", regions) + _table("stores", stores)
        + _table("products", products) + _table("sources", sources) + _table("recipients", RECIPIENTS)
    )


@dataclass
class DemoEnvironment:
    """A running demo: the site and the SMTP sink are up while it is open."""

    ctx: Context
    site: DemoSite
    sink: MailSink
    now: datetime
    mentions: list


@contextmanager
def demo_environment(*, data_dir: Path, days: int = 60, now: datetime | None = None,
                     database_url: str | None = None) -> Iterator[DemoEnvironment]:
    """Generate the chain, serve it on loopback, write its catalog, migrate the database."""
    data_dir = Path(data_dir)
    if database_url is None:
        for stale in ("tingfeng.db", "tingfeng.db-wal", "tingfeng.db-shm"):
            (data_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "mail", ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    chain = demo_chain()
    now = now or utcnow()
    mentions = generate(chain, now=now, days=days)
    with DemoSite(chain, mentions) as site, MailSink(data_dir / "mail") as sink:
        catalog = data_dir / "tingfeng.toml"
        catalog.write_text(demo_catalog(chain, site.base_url), encoding="utf-8")
        settings = Settings(
            data_dir=data_dir, catalog=catalog, database_url=database_url,
            smtp_host="127.0.0.1", smtp_port=sink.port, smtp_from="听风舆情 <alerts@tingfeng.example>",
            http_min_delay=0.0, http_per_host_concurrency=4,
        )
        Database(settings.db_url).upgrade()
        ctx = Context.from_settings(settings)
        ctx.clock = lambda: now
        yield DemoEnvironment(ctx=ctx, site=site, sink=sink, now=now, mentions=mentions)
        ctx.db.dispose()


def run_pipeline(env: DemoEnvironment, echo: Callable[[str], None] = lambda _m: None) -> None:
    """Every stage once, as the scheduler would run them: collect, process, digest, deliver."""
    ctx = env.ctx
    echo(f"采集 collecting {len(jobs.enabled_sources(ctx))} sources from the demo site {env.site.base_url} …")
    runs = jobs.collect_all(ctx)
    failed = [sid for sid, r in runs.items() if isinstance(r, Exception)]
    if failed:
        echo(f"  ! {len(failed)} source(s) failed: {', '.join(failed)}")
    echo("分析 scoring, rolling up, detecting, notifying …")
    jobs.process(ctx)
    jobs.send_weekly_digest(ctx)  # the last complete week in the catalog's time zone
    jobs.deliver_notifications(ctx)


def run_demo(*, data_dir: Path, days: int = 60, echo: Callable[[str], None] = print,
             now: datetime | None = None) -> Settings:
    """Run the whole demo into ``data_dir`` (replacing an earlier demo there)."""
    with demo_environment(data_dir=data_dir, days=days, now=now) as env:
        chain = demo_chain()
        echo(f"生成演示数据 generated {len(env.mentions)} reviews and posts for {chain.brand_name} "
             f"({len(chain.stores)} stores, {len(chain.products)} products, {days} days)")
        run_pipeline(env, echo)
        summarize(env.ctx.db, env.sink.directory, echo)
        return env.ctx.settings


def summarize(db: Database, mail_dir: Path, echo: Callable[[str], None]) -> None:
    """Print what the demo produced: mentions, alerts, emails and where they are."""
    with db.session() as s:
        n_mentions = s.exec(select(func.count()).select_from(Mention)).one()
        labels = Counter(s.exec(select(MentionAnalysis.label)).all())
        alerts = s.exec(select(Alert).order_by(Alert.severity.desc(), Alert.opened_at)).all()
        notes = Counter(s.exec(select(Notification.status)).all())
    echo(f"\n声量 mentions: {n_mentions} collected · {sum(labels.values())} scored "
         f"(正面 {labels.get('positive', 0)} / 中性 {labels.get('neutral', 0)} / 负面 {labels.get('negative', 0)})")
    echo(f"预警 alerts: {len(alerts)}")
    for a in alerts:
        echo(f"  [{a.severity}] {a.title}")
    mails = sorted(mail_dir.glob("*.eml"))
    echo(f"邮件 emails: {len(mails)} delivered, outbox {dict(notes)}; saved in {mail_dir.resolve()}")
    for m in mails[:12]:
        echo(f"  {m.name}")
    if len(mails) > 12:
        echo(f"  … and {len(mails) - 12} more")
