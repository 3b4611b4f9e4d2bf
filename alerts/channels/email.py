"""SMTP email: multipart/alternative (plain text + HTML), inline chart PNGs by CID,
RFC 2047-encoded Chinese subject, optional attachments (the digest's Excel file).

The outbox's idempotency key becomes the Message-ID, so a message re-sent after a
crash between "sent" and "marked sent" carries the same Message-ID and mail systems
(and our tests) can recognise it as the same message.
"""

from __future__ import annotations

import base64
import re
import smtplib
import socket
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses
from typing import ClassVar

from alerts.channels.base import ChannelSettings, OutgoingMessage, RateLimit
from alerts.errors import ChannelError, DeliveryError, ServerUnreachable

# Folding a Chinese subject at 78 columns loses the spaces that fall on a fold: CPython puts
# them into the folding whitespace between two encoded words, which readers drop ("18 条" →
# "18条"). Lines up to RFC 5322's hard limit of 998 keep a subject on one line. Used only to
# write the headers: the parts are encoded under SMTP's 78, so long body lines stay base64.
_HEADER_POLICY = SMTP.clone(max_line_length=998)
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+")


def message_id_for(key: str, smtp_from: str) -> str:
    """A stable RFC 5322 Message-ID derived from an outbox idempotency key."""
    addresses = getaddresses([smtp_from])
    domain = addresses[0][1].rpartition("@")[2] if addresses and "@" in addresses[0][1] else "tingfeng.local"
    local = _NOT_ATEXT.sub(".", key).strip(".") or "tingfeng"
    local = re.sub(r"\.{2,}", ".", local)
    return f"<{local}@{domain}>"


def build_email(message: OutgoingMessage, smtp_from: str) -> EmailMessage:
    """The MIME message for ``message`` (pure: used by the sender and by previews).

    Structure: ``mixed[ alternative[ text/plain, related[ text/html, image/png… ] ], attachments… ]``
    (``mixed`` only when there are attachments, ``related`` only when there are images).
    """
    msg = EmailMessage(policy=SMTP)
    msg["From"] = smtp_from
    msg["To"] = message.address
    msg["Subject"] = message.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id_for(message.key, smtp_from)
    msg["X-Tingfeng-Key"] = message.key
    msg.set_content(message.text or " ", subtype="plain", charset="utf-8")
    if message.html:
        msg.add_alternative(message.html, subtype="html", charset="utf-8")
        html_part = msg.get_payload()[-1]
        for image in message.payload.get("images", []):
            maintype, _, subtype = str(image.get("mime", "image/png")).partition("/")
            html_part.add_related(
                base64.b64decode(image["b64"]), maintype=maintype, subtype=subtype or "png",
                cid=f"<{image['cid']}>", disposition="inline", filename=image.get("filename"),
            )
    for att in message.payload.get("attachments", []):
        maintype, _, subtype = str(att.get("mime", "application/octet-stream")).partition("/")
        msg.add_attachment(
            base64.b64decode(att["b64"]), maintype=maintype, subtype=subtype or "octet-stream",
            filename=att["filename"],
        )
    msg.policy = _HEADER_POLICY
    return msg


class EmailNotifier:
    """Sends outbox messages over SMTP (plain, STARTTLS or implicit TLS, optional login)."""

    name: ClassVar[str] = "email"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    batch_max_bytes: ClassVar[int] = 0

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_starttls:
                smtp.starttls()
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
        return smtp

    def send(self, message: OutgoingMessage) -> str:
        """Deliver one email; returns the server's answer to DATA (e.g. ``250 OK``)."""
        try:
            Address(addr_spec=message.address)
        except (ValueError, IndexError) as exc:
            raise ChannelError(f"invalid email address {message.address!r}") from exc
        mime = build_email(message, self.settings.smtp_from)
        sender = getaddresses([self.settings.smtp_from])[0][1] or "tingfeng@localhost"
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnreachable(f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port} unreachable: {exc}") from exc
        try:
            smtp.ehlo_or_helo_if_needed()
            code, resp = smtp.mail(sender, ["SMTPUTF8"] if _needs_utf8(message.address) else [])
            if code != 250:
                raise _smtp_error(code, resp, "MAIL FROM")
            code, resp = smtp.rcpt(message.address)
            if code not in (250, 251):
                raise _smtp_error(code, resp, "RCPT TO")
            code, resp = smtp.data(mime.as_bytes())
            if code != 250:
                raise _smtp_error(code, resp, "DATA")
            return f"{code} {resp.decode('utf-8', 'replace')}"
        except smtplib.SMTPResponseException as exc:  # before OSError: it is one
            raise _smtp_error(exc.smtp_code, exc.smtp_error, "SMTP") from exc
        except (socket.timeout, OSError) as exc:
            raise DeliveryError(f"SMTP connection lost: {exc}") from exc
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _needs_utf8(address: str) -> bool:
    return not address.isascii()


def _smtp_error(code: int, resp: bytes | str, stage: str) -> Exception:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    message = f"{stage} refused: {code} {text}"
    return ChannelError(message) if 500 <= code < 600 else DeliveryError(message)
