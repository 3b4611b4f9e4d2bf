"""Each chat bot against a local HTTP receiver on 127.0.0.1 that checks the signature
and the payload shape the way the real service does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.channels import NOTIFIERS, make_notifiers
from alerts.channels.base import ChannelSettings, Notifier, OutgoingMessage
from alerts.channels.dingtalk import DingTalkNotifier
from alerts.channels.feishu import FeishuNotifier
from alerts.channels.webhook import WebhookNotifier
from alerts.channels.wecom import WeComNotifier
from alerts.errors import ChannelError, DeliveryError, RateLimited

SECRET = "SEC0123456789abcdef"
SETTINGS = ChannelSettings(webhook_timeout=5)


def check_dingtalk(query: dict, body: dict) -> dict:
    ts, sign = query["timestamp"][0], query["sign"][0]  # parse_qs has already url-decoded sign
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
    if sign != expected or abs(time.time() * 1000 - int(ts)) > 3600_000:
        return {"errcode": 310000, "errmsg": "sign not match"}
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] and body["markdown"]["text"]
    return {"errcode": 0, "errmsg": "ok"}


def check_feishu(query: dict, body: dict) -> dict:
    ts = body["timestamp"]
    expected = base64.b64encode(hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    if body.get("sign") != expected or abs(time.time() - int(ts)) > 3600:
        return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
    card = body["card"]
    assert body["msg_type"] == "interactive" and card["header"]["title"]["tag"] == "plain_text"
    assert card["elements"][0]["tag"] == "markdown"
    return {"code": 0, "msg": "success", "data": {}}


def check_wecom(query: dict, body: dict) -> dict:
    if query.get("key") != ["good"]:
        return {"errcode": 93000, "errmsg": "invalid webhook url"}
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert len(body["markdown"]["content"].encode()) <= 4096
    return {"errcode": 0, "errmsg": "ok"}


class Receiver:
    """A loopback HTTP server; ``mode`` picks the bot it imitates."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply: tuple[int, dict] | None = None  # forced answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                body = json.loads(raw)
                receiver.requests.append({"path": url.path, "query": query, "body": body, "raw": raw,
                                          "headers": dict(self.headers)})
                status, answer = receiver.reply or (200, receiver.check(url.path, query, body, raw, self.headers))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def check(self, path, query, body, raw, headers) -> dict:
        if path == "/robot/send":
            return check_dingtalk(query, body)
        if path.startswith("/open-apis/bot/v2/hook/"):
            return check_feishu(query, body)
        if path == "/cgi-bin/webhook/send":
            return check_wecom(query, body)
        ts = headers["X-Tingfeng-Timestamp"]
        mac = hmac.new(SECRET.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
        if headers.get("X-Tingfeng-Signature") != f"sha256={mac}":
            return {"ok": False}
        return {"ok": True, "key": headers["X-Tingfeng-Idempotency-Key"]}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("BOT_SECRET_TEST", SECRET)
    return "BOT_SECRET_TEST"


def message(channel: str, address: str, secret_env: str | None = None, **extra) -> OutgoingMessage:
    payload = {"title": "【预警】静安寺店 负面评价激增", "severity": "warning", **extra}
    if secret_env:
        payload["secret_env"] = secret_env
    return OutgoingMessage(key="alert:1:warning:mgr:" + channel, channel=channel, recipient_id="mgr", address=address,
                           subject="【预警】静安寺店 负面评价激增",
                           text="### 【预警】静安寺店 负面评价激增\n\n- 负面数：**8**", payload=payload)


def test_registry_lists_every_channel_and_each_is_a_notifier():
    assert set(NOTIFIERS) == {"email", "wecom", "dingtalk", "feishu", "webhook"}
    for name, notifier in make_notifiers(SETTINGS).items():
        assert isinstance(notifier, Notifier) and notifier.name == name


def test_dingtalk_signs_the_url_and_sends_markdown(receiver, secret_env):
    answer = DingTalkNotifier(SETTINGS).send(message("dingtalk", f"{receiver.base}/robot/send?access_token=abc", secret_env))
    assert json.loads(answer)["errcode"] == 0
    [req] = receiver.requests
    assert req["query"]["access_token"] == ["abc"]
    assert req["body"]["markdown"]["title"] == "【预警】静安寺店 负面评价激增"
    assert "负面数：**8**" in req["body"]["markdown"]["text"]


def test_dingtalk_wrong_secret_is_a_permanent_error(receiver, monkeypatch):
    monkeypatch.setenv("BOT_SECRET_WRONG", "nope")
    with pytest.raises(ChannelError, match="310000"):
        DingTalkNotifier(SETTINGS).send(message("dingtalk", f"{receiver.base}/robot/send?access_token=abc", "BOT_SECRET_WRONG"))


def test_dingtalk_throttle_is_rate_limited_for_ten_minutes(receiver, secret_env):
    receiver.reply = (200, {"errcode": 130101, "errmsg": "send too fast"})
    with pytest.raises(RateLimited) as info:
        DingTalkNotifier(SETTINGS).send(message("dingtalk", f"{receiver.base}/robot/send?access_token=abc", secret_env))
    assert info.value.retry_after == 600


def test_missing_secret_env_is_a_permanent_error(receiver, monkeypatch):
    monkeypatch.delenv("BOT_SECRET_UNSET", raising=False)
    with pytest.raises(ChannelError, match="BOT_SECRET_UNSET"):
        DingTalkNotifier(SETTINGS).send(message("dingtalk", f"{receiver.base}/robot/send?access_token=abc", "BOT_SECRET_UNSET"))
    assert receiver.requests == []


def test_feishu_signs_in_the_body_and_sends_a_card(receiver, secret_env):
    answer = FeishuNotifier(SETTINGS).send(message("feishu", f"{receiver.base}/open-apis/bot/v2/hook/xyz", secret_env))
    assert json.loads(answer)["code"] == 0
    body = receiver.requests[0]["body"]
    assert body["card"]["header"]["title"]["content"] == "【预警】静安寺店 负面评价激增"
    assert body["card"]["header"]["template"] == "orange"
    content = body["card"]["elements"][0]["content"]
    assert "###" not in content and "负面数：**8**" in content  # the heading moved to the header


def test_feishu_bad_signature_is_refused(receiver, monkeypatch):
    monkeypatch.setenv("BOT_SECRET_WRONG", "nope")
    with pytest.raises(ChannelError, match="19021"):
        FeishuNotifier(SETTINGS).send(message("feishu", f"{receiver.base}/open-apis/bot/v2/hook/xyz", "BOT_SECRET_WRONG"))


def test_wecom_sends_markdown_and_cuts_long_content(receiver):
    long = message("wecom", f"{receiver.base}/cgi-bin/webhook/send?key=good")
    long = OutgoingMessage(**{**long.__dict__, "text": "负面" * 3000})
    assert json.loads(WeComNotifier(SETTINGS).send(long))["errcode"] == 0
    content = receiver.requests[0]["body"]["markdown"]["content"]
    assert content.endswith("…") and len(content.encode()) <= 4096


def test_wecom_bad_key_and_rate_limit(receiver):
    with pytest.raises(ChannelError):
        WeComNotifier(SETTINGS).send(message("wecom", f"{receiver.base}/cgi-bin/webhook/send?key=bad"))
    receiver.reply = (200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    with pytest.raises(RateLimited):
        WeComNotifier(SETTINGS).send(message("wecom", f"{receiver.base}/cgi-bin/webhook/send?key=good"))


def test_webhook_signature_header_and_idempotency_key(receiver, secret_env):
    msg = message("webhook", f"{receiver.base}/hooks/tingfeng", secret_env, data={"alert_id": 1, "severity": "warning"})
    answer = WebhookNotifier(SETTINGS).send(msg)
    assert answer.startswith("200") and json.loads(answer[4:]) == {"ok": True, "key": "alert:1:warning:mgr:webhook"}
    body = receiver.requests[0]["body"]
    assert body["id"] == "alert:1:warning:mgr:webhook" and body["data"] == {"alert_id": 1, "severity": "warning"}


def test_http_errors_are_classified(receiver):
    hook = WebhookNotifier(SETTINGS)
    receiver.reply = (503, {"error": "down"})
    with pytest.raises(DeliveryError) as info:
        hook.send(message("webhook", f"{receiver.base}/hooks/x"))
    assert not isinstance(info.value, ChannelError)
    receiver.reply = (404, {"error": "no such hook"})
    with pytest.raises(ChannelError):
        hook.send(message("webhook", f"{receiver.base}/hooks/x"))
    receiver.reply = (429, {"error": "slow down"})
    with pytest.raises(RateLimited):
        hook.send(message("webhook", f"{receiver.base}/hooks/x"))


def test_connection_refused_is_temporary():
    receiver = Receiver()
    base = receiver.base
    receiver.close()
    with pytest.raises(DeliveryError) as info:
        WeComNotifier(SETTINGS).send(message("wecom", f"{base}/cgi-bin/webhook/send?key=good"))
    assert not isinstance(info.value, ChannelError)


def test_outbox_merges_a_burst_for_one_bot_into_signed_messages_within_limits(db, receiver, secret_env):
    from datetime import datetime, timedelta, timezone

    from sqlmodel import select

    from alerts.outbox import deliver_notifications
    from storage.models import Notification

    now = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    url = f"{receiver.base}/robot/send?access_token=burst"
    with db.session() as s:
        for i in range(60):  # ~60 alerts at once, each about 1.2 kB of markdown
            s.add(Notification(idempotency_key=f"burst:{i}", channel="dingtalk", recipient_id="grp", address=url,
                               subject=f"预警 {i}", body_text=f"### 预警 {i}\n" + "负面评价增多。" * 60,
                               payload={"secret_env": secret_env, "title": f"预警 {i}"},
                               next_attempt_at=now, created_at=now))
    summary = deliver_notifications(db, SETTINGS, now=now)
    assert summary.sent == 60 and summary.deferred == 0 and summary.dead == 0
    assert 1 < summary.messages == len(receiver.requests) <= 20  # merged, within 20/min, nothing dropped
    texts = [r["body"]["markdown"]["text"] for r in receiver.requests]
    assert all(len(t.encode()) <= 18000 for t in texts)
    assert sum(t.count("### 预警 ") for t in texts) == 60
    with db.session() as s:
        rows = s.exec(select(Notification)).all()
    assert all(r.status == "sent" and '"errcode": 0' in r.provider_response for r in rows)
    later = deliver_notifications(db, SETTINGS, now=now + timedelta(minutes=5))
    assert later.claimed == 0


def test_an_env_address_is_read_at_send_time_and_an_unset_one_is_a_permanent_error(receiver, secret_env, monkeypatch):
    msg = message("webhook", "env:HOOK_TEST_URL", secret_env, data={"alert_id": 1})
    monkeypatch.delenv("HOOK_TEST_URL", raising=False)
    with pytest.raises(ChannelError, match="HOOK_TEST_URL"):
        WebhookNotifier(SETTINGS).send(msg)
    assert receiver.requests == []
    monkeypatch.setenv("HOOK_TEST_URL", f"{receiver.base}/hooks/from-env")
    assert WebhookNotifier(SETTINGS).send(msg).startswith("200")
    assert receiver.requests[0]["path"] == "/hooks/from-env"


def test_url_env_webhook_from_the_catalog_reaches_the_endpoint_end_to_end(db, receiver, secret_env, monkeypatch):
    """``[recipients.channels.webhook] url_env = "HOOK_A"``: queued, then POSTed to the URL the variable holds,
    signed with the ``secret_env`` secret; the outbox row keeps the variable's name, not the secret URL."""
    from datetime import datetime, timezone

    from sqlmodel import select

    from alerts.outbox import deliver_notifications, enqueue_alert_notifications
    from alerts.policy import AlertPolicy
    from alerts.render.links import LinkSettings
    from storage.models import Alert, Brand, Notification, Recipient, Region, Store

    now = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    monkeypatch.setenv("HOOK_A", f"{receiver.base}/hooks/a?token=t0p")
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Region(id="sh", name="上海", brand_id="cha"))
        s.add(Store(id="jingan", brand_id="cha", name="静安寺店", region_id="sh"))
        s.add(Recipient(id="mgr", name="王店长", role="manager", stores=["jingan"],
                        channels={"webhook": {"url_env": "HOOK_A", "secret_env": secret_env}}))
        s.add(Alert(kind="spike", scope_type="store", scope_id="jingan", incident_key="store:jingan:1",
                    severity="critical", title="静安寺店 负面评价激增", reason="近 6 小时负面 8 条",
                    opened_at=now, updated_at=now, evidence={"negative": 8, "total": 11, "mention_ids": []}))
    assert enqueue_alert_notifications(db, AlertPolicy(), links=LinkSettings(secret_key="k" * 32), now=now) == 1
    with db.session() as s:
        row = s.exec(select(Notification)).one()
    assert (row.channel, row.address) == ("webhook", "env:HOOK_A")
    summary = deliver_notifications(db, SETTINGS, now=now)
    assert summary.sent == 1 and summary.dead == 0
    [request] = receiver.requests
    assert request["path"] == "/hooks/a" and request["query"] == {"token": ["t0p"]}
    assert request["body"]["data"]["title"] == "静安寺店 负面评价激增"
    assert request["headers"]["X-Tingfeng-Signature"].startswith("sha256=")  # and the receiver checked it
