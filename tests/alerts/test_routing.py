"""Routing: who gets an alert, escalation targets, quiet hours (pure functions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from alerts.policy import AlertPolicy
from alerts.routing import (
    Catalog, escalation_due, escalation_targets, quiet_until, recipients_for_alert, routes_for, send_at,
)
from storage.models import Alert, Product, Recipient, Region, Store

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
CATALOG = Catalog(
    stores={"jingan": Store(id="jingan", brand_id="cha", name="静安寺店", region_id="sh"),
            "wangjing": Store(id="wangjing", brand_id="cha", name="望京店", region_id="bj"),
            "other": Store(id="other", brand_id="kafei", name="别家店", region_id="sh2")},
    products={"mango": Product(id="mango", brand_id="cha", name="杨枝甘露")},
    regions={"sh": Region(id="sh", name="上海", brand_id="cha")},
)
PEOPLE = [
    Recipient(id="mgr-jingan", name="王", role="manager", stores=["jingan"], escalates_to=["area-sh"]),
    Recipient(id="mgr-wangjing", name="李", role="manager", stores=["wangjing"]),
    Recipient(id="area-sh", name="赵", role="area_manager", regions=["sh"], escalates_to=["hq", "ghost"]),
    Recipient(id="mkt-cha", name="市场", role="marketing", brands=["cha"]),
    Recipient(id="mkt-kafei", name="市场2", role="marketing", brands=["kafei"]),
    Recipient(id="hq", name="总部", role="hq"),
    Recipient(id="ops", name="运维", role="admin"),
]


def alert(scope_type, scope_id, kind="spike", **kw) -> Alert:
    return Alert(kind=kind, scope_type=scope_type, scope_id=scope_id, incident_key="k", title="t",
                 opened_at=NOW, updated_at=NOW, **kw)


@pytest.mark.parametrize("scope_type,scope_id,kind,expected", [
    ("store", "jingan", "spike", ["area-sh", "mgr-jingan"]),
    ("store", "wangjing", "urgent", ["mgr-wangjing"]),
    ("store_product", "jingan|mango", "spike", ["area-sh", "mgr-jingan"]),
    ("store_touchpoint", "wangjing|service", "spike", ["mgr-wangjing"]),
    ("store", "other", "spike", ["hq", "mkt-kafei"]),  # nobody configured for the store: its brand's marketing
    ("brand", "cha", "spike", ["hq", "mkt-cha"]),
    ("product", "mango", "spike", ["hq", "mkt-cha"]),
    # a chain-wide product incident folds its stores: their managers hear it from the product alert
    ("product", "mango", "spike", ["area-sh", "hq", "mgr-jingan", "mgr-wangjing", "mkt-cha"]),
    ("region", "sh", "spike", ["area-sh", "hq", "mkt-cha"]),
    ("source", "dianping-feed", "source_health", ["ops"]),
])
def test_recipients_for_alert(scope_type, scope_id, kind, expected):
    evidence = {"stores": [{"store": "wangjing", "negative": 5}, {"store": "jingan", "negative": 3}]} \
        if "mgr-wangjing" in expected and scope_type == "product" else {}
    got = recipients_for_alert(alert(scope_type, scope_id, kind, evidence=evidence), PEOPLE, CATALOG)
    assert [r.id for r in got] == expected


def test_escalation_targets_skip_already_routed_and_unknown():
    routed = recipients_for_alert(alert("store", "jingan"), PEOPLE, CATALOG)
    assert [r.id for r in escalation_targets(routed, PEOPLE)] == ["hq"]


def test_escalation_due_only_for_open_unescalated_warnings_after_the_delay():
    policy = AlertPolicy(escalate_after_minutes=90)
    a = alert("store", "jingan", severity="warning")
    assert not escalation_due(a, policy, NOW + timedelta(minutes=89))
    assert escalation_due(a, policy, NOW + timedelta(minutes=90))
    assert not escalation_due(alert("store", "jingan", severity="info"), policy, NOW + timedelta(days=1))
    assert not escalation_due(alert("store", "jingan", status="acknowledged"), policy, NOW + timedelta(days=1))
    assert not escalation_due(alert("store", "jingan", escalated_at=NOW), policy, NOW + timedelta(days=1))


def test_routes_for_lists_email_and_known_channels():
    r = Recipient(id="x", name="x", email="x@example.com", channels={
        "dingtalk": {"url": "https://oapi.dingtalk.com/robot/send?access_token=1", "secret_env": "DT"},
        "pager": {"url": "https://unknown"}, "feishu": {}})
    routes = routes_for(r, ["email", "dingtalk", "feishu"])
    assert [(x.channel, x.address) for x in routes] == [
        ("email", "x@example.com"), ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=1")]
    assert routes[1].config["secret_env"] == "DT"


@pytest.mark.parametrize("local_hour,quiet,until_local_hour", [
    (23, ("22:00", "08:00"), 8),
    (3, ("22:00", "08:00"), 8),
    (8, ("22:00", "08:00"), None),
    (14, ("22:00", "08:00"), None),
    (13, ("12:00", "14:00"), 14),
    (14, ("12:00", "14:00"), None),
])
def test_quiet_hours_in_the_policy_time_zone(local_hour, quiet, until_local_hour):
    policy = AlertPolicy(quiet_hours=quiet)
    now = datetime(2026, 11, 20, local_hour, 30, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)
    until = quiet_until(now, policy)
    if until_local_hour is None:
        assert until is None
    else:
        local = until.astimezone(timezone(timedelta(hours=8)))
        assert (local.hour, local.minute) == (until_local_hour, 0) and until > now
        assert until - now < timedelta(hours=24)


def test_send_at_delays_only_non_critical_chat():
    policy = AlertPolicy(quiet_hours=("22:00", "08:00"))
    night = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)  # 23:00 Shanghai
    assert send_at(night, "email", "warning", policy) == night
    assert send_at(night, "webhook", "warning", policy) == night
    assert send_at(night, "wecom", "critical", policy) == night
    assert send_at(night, "wecom", "warning", policy) == datetime(2026, 11, 21, 0, 0, tzinfo=timezone.utc)
    assert send_at(night, "feishu", "info", AlertPolicy()) == night


def test_url_env_channels_route_to_the_variable_and_problems_name_what_is_missing():
    from alerts.routing import channel_address, channel_problems

    r = Recipient(id="x", name="x", channels={
        "webhook": {"url_env": "HOOK_A"}, "wecom": {"address_env": "WX"}, "feishu": {"url": " https://f/hook "}})
    routes = routes_for(r, ["email", "webhook", "wecom", "feishu"])
    assert [(x.channel, x.address) for x in routes] == [
        ("feishu", "https://f/hook"), ("webhook", "env:HOOK_A"), ("wecom", "env:WX")]
    assert channel_address({"url": "https://a", "url_env": "B"}) == "https://a"  # a literal URL wins
    assert channel_address({"secret_env": "S"}) is None
    known = ["email", "webhook", "dingtalk"]
    env = {"HOOK_A": "https://hooks.example/a", "EMPTY": " "}
    assert channel_problems("webhook", {"url_env": "HOOK_A"}, env, known) == []
    assert channel_problems("webhook", {"url_env": "HOOK_B"}, env, known) == [
        "url_env = 'HOOK_B': environment variable HOOK_B is not set"]
    assert channel_problems("webhook", {"url_env": "EMPTY"}, env, known) == [
        "url_env = 'EMPTY': environment variable EMPTY is not set"]
    assert channel_problems("dingtalk", {"url": "https://d", "secret_env": "DT"}, env, known) == [
        "secret_env = 'DT': environment variable DT is not set"]
    assert channel_problems("dingtalk", {"secret_env": "HOOK_A"}, env, known)[0].startswith("no address")
    assert channel_problems("pager", {"url": "https://p"}, env, known)[0].startswith("unknown channel")
