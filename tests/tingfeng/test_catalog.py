"""Catalog validation (file, key path, reason — all problems at once) and sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from storage.models import Brand, Recipient, Source, Store
from tingfeng.catalog import load_catalog, parse_catalog, sync_catalog
from tingfeng.cli import app
from tingfeng.errors import CatalogError
from tingfeng.example import EXAMPLE_CATALOG

GOOD = """
[[brands]]
id = "b"
name = "青禾茶事"
[[regions]]
id = "sh"
name = "上海"
[[stores]]
id = "s1"
name = "万象城店"
region = "sh"
[[sources]]
id = "feed1"
type = "feed"
store = "s1"
options = { url = "http://127.0.0.1:1/feed.xml" }
[[recipients]]
name = "王店长"
email = "wang@example.com"
stores = ["s1"]
"""


def test_example_catalog_is_valid() -> None:
    cat = parse_catalog(EXAMPLE_CATALOG)
    assert cat.brands[0].exclude and cat.sources and cat.recipients


def test_good_catalog_parses_with_defaults() -> None:
    cat = parse_catalog(GOOD)
    assert cat.timezone == "Asia/Shanghai"
    assert cat.recipient_id(cat.recipients[0]) == "王店长"
    assert cat.schedule.digest == "0 9 * * mon"


def test_every_problem_is_reported_with_key_path() -> None:
    bad = GOOD.replace('region = "sh"', 'region = "bj"').replace('store = "s1"', 'store = "nope"')
    bad += '\n[[stores]]\nid = "s1"\nname = "重复"\n[schedule]\nprocess = "every five minutes"\n'
    with pytest.raises(CatalogError) as err:
        parse_catalog(bad, file="cat.toml")
    text = str(err.value)
    assert err.value.file == "cat.toml"
    # pydantic-level problems come first; the schedule typo is one of them
    assert any(p.startswith("schedule.process:") and "cron" in p for p in err.value.problems), text


def test_cross_reference_problems_are_all_listed() -> None:
    bad = GOOD.replace('region = "sh"', 'region = "bj"').replace('store = "s1"', 'store = "nope"')
    bad += '\n[[stores]]\nid = "s1"\nname = "重复"\n'
    with pytest.raises(CatalogError) as err:
        parse_catalog(bad)
    problems = err.value.problems
    assert "stores[0].region: unknown region 'bj' (known: sh)" in problems
    assert any(p.startswith("sources[0].store: unknown store 'nope'") for p in problems)
    assert "stores[1].id: duplicate id 's1'" in problems


def test_unknown_key_and_wrong_type_are_refused() -> None:
    bad = GOOD.replace('name = "万象城店"', 'name = "万象城店"\nadress = "typo"\nplatform_ids = 5')
    with pytest.raises(CatalogError) as err:
        parse_catalog(bad)
    joined = "\n".join(err.value.problems)
    assert "stores[0].adress: Extra inputs are not permitted" in joined
    assert "stores[0].platform_ids:" in joined


def test_toml_syntax_error_names_line() -> None:
    with pytest.raises(CatalogError, match=r"not valid TOML: .*line 2"):
        parse_catalog('[[brands]]\nid = "b\n', file="x.toml")


def test_recipient_without_channel_and_bad_email() -> None:
    bad = GOOD.replace('email = "wang@example.com"', 'email = "not-an-email"')
    bad += '\n[[recipients]]\nname = "nobody"\n'
    with pytest.raises(CatalogError) as err:
        parse_catalog(bad)
    joined = "\n".join(err.value.problems)
    assert "recipients[0].email" in joined


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="tingfeng init"):
        load_catalog(tmp_path / "missing.toml")


def test_check_config_cli_prints_all_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace('region = "sh"', 'region = "bj"').replace('store = "s1"', 'store = "x"'), "utf-8")
    result = CliRunner().invoke(app, ["check-config", "-c", str(path)])
    assert result.exit_code == 1
    assert f"{path}: stores[0].region: unknown region 'bj'" in result.output
    assert f"{path}: sources[0].store: unknown store 'x'" in result.output
    good = tmp_path / "good.toml"
    good.write_text(GOOD, "utf-8")
    ok = CliRunner().invoke(app, ["check-config", "-c", str(good)])
    assert ok.exit_code == 0 and "1 store(s)" in ok.output


def test_init_writes_a_valid_catalog(tmp_path: Path) -> None:
    path = tmp_path / "tingfeng.toml"
    assert CliRunner().invoke(app, ["init", str(path)]).exit_code == 0
    assert load_catalog(path).stores
    assert CliRunner().invoke(app, ["init", str(path)]).exit_code == 1  # no silent overwrite


def test_sync_is_idempotent_and_disables_removed_sources(db) -> None:
    cat = parse_catalog(GOOD)
    sync_catalog(db, cat)
    sync_catalog(db, cat)
    with db.session() as s:
        assert [b.name for b in s.exec(select(Brand))] == ["青禾茶事"]
        store = s.exec(select(Store)).one()
        assert store.brand_id == "b" and store.region_id == "sh"
        src = s.exec(select(Source)).one()
        src.state = {"etag": "abc"}
        s.add(src)
        assert s.exec(select(Recipient)).one().stores == ["s1"]
    # the source's collector state survives a re-sync; removing it disables it
    sync_catalog(db, cat)
    with db.session() as s:
        assert s.exec(select(Source)).one().state == {"etag": "abc"}
    without = parse_catalog(GOOD.split("[[sources]]")[0] + "[[recipients]]" + GOOD.split("[[recipients]]")[1])
    sync_catalog(db, without)
    with db.session() as s:
        assert s.exec(select(Source)).one().enabled is False


def test_source_display_name_from_the_catalog_or_a_chinese_default(db) -> None:
    named = GOOD.replace('id = "feed1"\n', 'id = "feed1"\nname = "万象城 点评导出"\n')
    extra = ('\n[[sources]]\nid = "wb"\ntype = "feed"\nplatform = "weibo"\noptions = { url = "http://127.0.0.1:1/w" }\n'
             '[[sources]]\nid = "dp-s1"\ntype = "feed"\nplatform = "dianping"\nstore = "s1"\n'
             'options = { url = "http://127.0.0.1:1/d" }\n[[sources]]\nid = "csv"\ntype = "file"\n'
             'options = { path = "/tmp/x.csv" }\n')
    cat = parse_catalog(named.replace("[[recipients]]", extra + "[[recipients]]"))
    assert cat.sources[0].name == "万象城 点评导出" and cat.sources[1].name is None
    sync_catalog(db, cat)
    with db.session() as s:
        names = {src.id: src.name for src in s.exec(select(Source))}
    assert names == {"feed1": "万象城 点评导出", "wb": "微博", "dp-s1": "大众点评 · 万象城店", "csv": "文件导入"}
    with pytest.raises(CatalogError) as err:
        parse_catalog(GOOD.replace('id = "feed1"\n', 'id = "feed1"\nname = ""\n'))
    assert "sources[0].name" in str(err.value)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(CatalogError) as err:
        parse_catalog('timezone = "Asia/Beijing"\n' + GOOD)
    assert any(p.startswith("timezone:") and "unknown time zone 'Asia/Beijing'" in p for p in err.value.problems)


def test_source_examples_in_the_docs_are_accepted_by_the_catalog() -> None:
    import re

    docs = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", docs, re.S)
    assert len(blocks) >= 5
    header = ('[[brands]]\nid = "chayan"\nname = "茶颜悦色"\n'
              '[[stores]]\nid = "cs-wuyi"\nname = "五一广场店"\n')
    for block in blocks:
        parse_catalog(header + block, file="docs/sources.md")  # raises CatalogError naming the bad key


def test_every_kind_of_problem_is_listed_in_one_round() -> None:
    bad = GOOD.replace('store = "s1"', 'brand_id = "b"\nstore = "nope"').replace(
        'options = { url = "http://127.0.0.1:1/feed.xml" }', 'options = { url = "ftp://x", colour = "red" }')
    bad = bad.replace('region = "sh"', 'region = "sh"\nadress = "typo"')  # an invalid store still counts
    bad += '\n[[sources]]\nid = "f2"\ntype = "feed"\nstore = "s1"\noptions = { url = "http://127.0.0.1:1/x" }\n'
    with pytest.raises(CatalogError) as err:
        parse_catalog(bad)
    assert err.value.problems == [
        "stores[0].adress: Extra inputs are not permitted (got 'typo')",
        "sources[0].brand_id: Extra inputs are not permitted (got 'b')",
        "sources[0].store: unknown store 'nope' (known: s1)",
        "sources[0] (feed1): options.url: Value error, must start with http:// or https://",
        "sources[0] (feed1): options.colour: unknown option",
    ]
def test_competitor_brand_deadlines_and_reply_templates_are_synced(db) -> None:
    from storage.models import CatalogSetting
    from tingfeng.catalog import DEFAULT_REPLY_TEMPLATES

    text = GOOD + """
[[brands]]
id = "rival"
name = "竹里茶坊"
type = "competitor"
[alerts]
escalate_after_minutes = 90
[replies]
within_hours = 12
templates = { service = "{store}店长向您致歉：{product}" }
"""
    cat = parse_catalog(text)  # a competitor does not make stores need a brand
    sync_catalog(db, cat)
    with db.session() as s:
        assert {b.id: b.kind for b in s.exec(select(Brand))} == {"b": None, "rival": "competitor"}
        assert s.get(Store, "s1").brand_id == "b"
        handling = s.get(CatalogSetting, "handling").value
        templates = s.get(CatalogSetting, "reply_templates").value
    assert handling == {"acknowledge_minutes": 90, "resolve_hours": 24, "reply_hours": 12}
    assert templates["service"] == "{store}店长向您致歉：{product}"
    assert templates["delivery"] == DEFAULT_REPLY_TEMPLATES["delivery"]  # shipped default kept


def test_reply_templates_are_checked() -> None:
    with pytest.raises(CatalogError) as exc:
        parse_catalog(GOOD + '[replies]\ntemplates = { queue = "x", service = "{shop}" }\n')
    message = str(exc.value)
    assert "replies.templates" in message and "queue" in message


def test_check_config_fails_on_a_chat_channel_that_delivers_nowhere(tmp_path: Path, monkeypatch) -> None:
    """The example catalog's ``url_env`` is checked against the environment: unset → exit 1 naming who and what."""
    path = tmp_path / "tingfeng.toml"
    path.write_text(EXAMPLE_CATALOG.replace(
        '[[recipients]]\nname = "上海区域经理"',
        '[recipients.channels.dingtalk]\nsecret_env = "DT_SECRET"\n\n[[recipients]]\nname = "上海区域经理"'), "utf-8")
    monkeypatch.delenv("WECOM_BOT_SH_WXC", raising=False)
    monkeypatch.delenv("DT_SECRET", raising=False)
    bad = CliRunner().invoke(app, ["check-config", "-c", str(path)])
    assert bad.exit_code == 1
    assert "recipients[1].channels.wecom (王店长): url_env = 'WECOM_BOT_SH_WXC': environment variable " \
           "WECOM_BOT_SH_WXC is not set" in bad.output
    assert "recipients[1].channels.dingtalk (王店长): no address" in bad.output
    path.write_text(EXAMPLE_CATALOG, "utf-8")
    monkeypatch.setenv("WECOM_BOT_SH_WXC", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    ok = CliRunner().invoke(app, ["check-config", "-c", str(path)])
    assert ok.exit_code == 0, ok.output


def test_chain_vocabulary_problems_name_field_and_line(tmp_path: Path) -> None:
    bad = GOOD + '\n[vocabulary]\nurgent = ["碎瓷片", "碎 玻璃"]\n[vocabulary.touchpoints]\nfood = ["杨枝甘露"]\n'
    with pytest.raises(CatalogError) as exc:
        parse_catalog(bad)
    line = bad.splitlines().index('urgent = ["碎瓷片", "碎 玻璃"]') + 1
    assert any(p.startswith(f"line {line}: vocabulary.urgent") and "碎 玻璃" in p for p in exc.value.problems)
    assert any(p.startswith("vocabulary.touchpoints") and "food" in p for p in exc.value.problems)
    with pytest.raises(CatalogError) as exc:
        parse_catalog(GOOD + '\n[vocabulary]\nstopwords = ["还行", "头发"]\n')
    assert [p for p in exc.value.problems if "stopwords[1]" in p and "头发" in p and p.startswith("line ")]
    path = tmp_path / "tingfeng.toml"
    path.write_text(bad, encoding="utf-8")
    result = CliRunner().invoke(app, ["check-config", "-c", str(path)])
    assert result.exit_code == 1 and "vocabulary.urgent" in result.output


def test_chain_vocabulary_is_synced_and_used_by_scoring(db) -> None:
    from nlp.scoring import score_texts
    from nlp.models import get_model
    from nlp.vocabulary import from_session

    cat = parse_catalog(GOOD + '\n[vocabulary]\nurgent = ["碎瓷片"]\nstopwords = ["还行"]\n'
                        '[vocabulary.touchpoints]\nservice = ["打招呼"]\n')
    sync_catalog(db, cat)
    with db.session() as s:
        vocab = from_session(s)
    assert "还行" in vocab.stopwords and "碎瓷片" in vocab.urgent.terms and "头发" in vocab.urgent.terms
    got = score_texts(["奶茶里有碎瓷片，进门也没人打招呼"], get_model(), vocab=vocab)[0]
    assert got.urgent_terms == ("碎瓷片",) and "service" in [h.touchpoint for h in got.touchpoints]
    shipped_only = score_texts(["奶茶里有碎瓷片，进门也没人打招呼"], get_model())[0]
    assert shipped_only.urgent_terms == () and "service" not in [h.touchpoint for h in shipped_only.touchpoints]


def test_promotion_calendar_is_synced_in_utc_with_dates_as_whole_local_days(db) -> None:
    from storage.models import CatalogSetting

    cat = parse_catalog(GOOD + """
[[promotions]]
name = "双十二"
stores = ["s1"]
start = 2026-12-12
end = 2026-12-12
[[promotions]]
name = "下午茶第二杯半价"
start = 2026-12-20T14:00:00
end = 2026-12-20T17:30:00
""")
    sync_catalog(db, cat)
    with db.session() as s:
        entries = s.get(CatalogSetting, "promotions").value["entries"]
    assert entries == [
        {"name": "双十二", "stores": ["s1"], "start": "2026-12-11T16:00:00+00:00", "end": "2026-12-12T16:00:00+00:00"},
        {"name": "下午茶第二杯半价", "stores": [], "start": "2026-12-20T06:00:00+00:00",
         "end": "2026-12-20T09:30:00+00:00"},
    ]


def test_promotion_problems_name_the_entry() -> None:
    with pytest.raises(CatalogError) as err:
        parse_catalog(GOOD + """
[[promotions]]
stores = ["s9"]
start = 2026-12-12
end = 2026-12-13
[[promotions]]
start = 2026-12-12T18:00:00
end = 2026-12-12T09:00:00
""")
    text = str(err.value)
    assert "promotions[0].stores[0]: unknown store 's9'" in text
    assert "promotions[1]" in text and "is not after start" in text
