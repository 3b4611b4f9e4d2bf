"""EmailNotifier through a real aiosmtpd server on loopback; the MIME is parsed back.

Also home of the ``smtp_server`` fixture the outbox and digest tests import.
"""

from __future__ import annotations

import base64
import email
import socket
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from alerts.channels.base import ChannelSettings, OutgoingMessage
from alerts.channels.email import EmailNotifier, build_email, message_id_for
from alerts.errors import ChannelError, DeliveryError

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the loopback SMTP server received: one entry per DATA."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 - aiosmtpd hook
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK queued as test"

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(raw, policy=default) for _, raw in self.received]

    def by_recipient(self) -> dict[str, set[str]]:
        """Distinct Message-IDs per recipient: what a mail client shows after de-duplication."""
        out: dict[str, set[str]] = {}
        for (rcpts, _), msg in zip(self.received, self.messages()):
            for rcpt in rcpts:
                out.setdefault(rcpt, set()).add(msg["Message-ID"])
        return out


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    def settings(self, **extra) -> ChannelSettings:
        return ChannelSettings(smtp_host="127.0.0.1", smtp_port=self.port, smtp_timeout=5,
                               smtp_from="听风 <alerts@tingfeng.example>", **extra)


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _decoded_subject(raw: bytes) -> tuple[str, str]:
    msg = email.message_from_bytes(raw)  # compat32: the raw header as on the wire
    encoded = msg["Subject"]
    return encoded, str(make_header(decode_header(encoded)))


@pytest.mark.parametrize("subject", [
    "【听风·严重】青禾茶事 杭州西湖银泰店 差评激增：近30小时差评 18 条（平时约 0.8 条）",
    "【听风·警告】青禾茶事 徐家汇店·榴莲冰沙 差评激增：近48小时差评 6 条（平时约 0.1 条） " + "很长 " * 40,
])
def test_a_long_chinese_subject_keeps_every_space_on_the_wire(subject):
    # folded at 78 columns, Python's encoder put the space between "18" and "条" into the folding
    # whitespace between two encoded words, which every reader drops: "18条"
    raw = build_email(OutgoingMessage(key="k", channel="email", recipient_id="r", address="a@b.cn",
                                      subject=subject, text="正文"), "听风 <a@b.cn>").as_bytes()
    encoded, decoded = _decoded_subject(raw)
    assert decoded == subject
    assert encoded.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322's hard line limit


def test_email_through_smtp_has_alternative_inline_image_and_chinese_subject(smtp_server):
    message = OutgoingMessage(
        key="alert:7:critical:mgr-jingan:email", channel="email", recipient_id="mgr-jingan",
        address="manager@example.com", subject="【听风·严重】静安寺店 负面评价激增",
        text="静安寺店 近 6 小时负面 8 条", html='<p>静安寺店</p><img src="cid:chart-7">',
        payload={
            "images": [{"cid": "chart-7", "mime": "image/png", "b64": base64.b64encode(PNG_1PX).decode()}],
            "attachments": [{"filename": "负面提及.xlsx", "b64": base64.b64encode(b"PK\x03\x04xlsx").decode(),
                             "mime": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}],
        },
    )
    answer = EmailNotifier(smtp_server.settings()).send(message)
    assert answer.startswith("250")

    [(rcpts, raw)] = smtp_server.mailbox.received
    assert rcpts == ["manager@example.com"]
    encoded, subject = _decoded_subject(raw)
    assert encoded.isascii() and "=?utf-8?" in encoded.lower()
    assert subject == "【听风·严重】静安寺店 负面评价激增"

    msg = email.message_from_bytes(raw, policy=default)
    assert msg["Message-ID"] == message_id_for(message.key, "听风 <alerts@tingfeng.example>")
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert "负面 8 条" in plain.get_content()
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<chart-7>"
    assert 'src="cid:chart-7"' in html.get_content()
    assert image.get_payload(decode=True) == PNG_1PX
    assert attachment.get_filename() == "负面提及.xlsx"
    assert attachment.get_payload(decode=True) == b"PK\x03\x04xlsx"


def test_message_id_is_stable_and_valid():
    a = message_id_for("alert:1:warning:mgr:email", "x <a@b.cn>")
    assert a == message_id_for("alert:1:warning:mgr:email", "x <a@b.cn>")
    assert a.startswith("<") and a.endswith("@b.cn>") and ":" not in a
    assert a != message_id_for("alert:1:critical:mgr:email", "x <a@b.cn>")


def test_plain_email_without_html_is_single_part():
    mime = build_email(OutgoingMessage(key="k", channel="email", recipient_id="r", address="a@b.cn",
                                       subject="测试", text="正文"), "t@b.cn")
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content() .strip() == "正文"


def test_smtp_down_is_a_temporary_error():
    settings = ChannelSettings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=2)
    with pytest.raises(DeliveryError) as info:
        EmailNotifier(settings).send(OutgoingMessage(key="k", channel="email", recipient_id="r",
                                                     address="a@b.cn", subject="s", text="t"))
    assert not isinstance(info.value, ChannelError)


def test_invalid_address_is_permanent(smtp_server):
    with pytest.raises(ChannelError):
        EmailNotifier(smtp_server.settings()).send(OutgoingMessage(key="k", channel="email", recipient_id="r",
                                                                   address="not an address", subject="s", text="t"))
