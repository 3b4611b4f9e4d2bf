"""A local SMTP sink (aiosmtpd on loopback) that writes each received message to an
``.eml`` file, so the demo's emails can be opened and read."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from aiosmtpd.controller import Controller


class _SaveHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd API
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        subject = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", str(msg.get("Subject", "")))[:60].strip("_")
        self.count += 1
        for rcpt in envelope.rcpt_tos:
            who = re.sub(r"[^\w.@-]+", "_", rcpt)
            path = self.directory / f"{self.count:04d}-{who}-{subject}.eml"
            path.write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class MailSink:
    """``with MailSink(dir) as sink:`` — an SMTP server on 127.0.0.1:``sink.port``."""

    def __init__(self, directory: Path, port: int = 0) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.handler = _SaveHandler(self.directory)
        self._port = port or _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self._port)

    @property
    def port(self) -> int:
        return self._port

    def files(self) -> list[Path]:
        """The captured messages, oldest first."""
        return sorted(self.directory.glob("*.eml"))

    def __enter__(self) -> "MailSink":
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
