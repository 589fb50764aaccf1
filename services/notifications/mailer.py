"""Outgoing e-mail over SMTP: MIME messages with a plain-text and an HTML part, sent on one connection.

In a service process sockets are eventlet's, so waiting on the SMTP server blocks only the sending worker.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from services.notifications.render import Email

SMTP_TIMEOUT_SECONDS = 15


def _one_line(value: str) -> str:
    """Header text as one line: a line break in a citizen's title or name would make the header invalid."""
    return " ".join(value.split())


def message(email: Email, *, sender: str, to: str, to_name: str | None, unsubscribe_url: str,
            message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((_one_line(to_name or ""), to))
    msg["Subject"] = _one_line(email.subject)
    msg["Message-ID"] = message_id or make_msgid(domain="agora.local")
    msg["Content-Language"] = email.locale
    msg["Auto-Submitted"] = "auto-generated"
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    return msg


class Smtp:
    """`with Smtp(cfg) as smtp: smtp.send(msg)`; connects on the first message, STARTTLS and login when configured."""

    def __init__(self, host: str, port: int, user: str = "", password: str = "", tls: bool = False,
                 timeout: float = SMTP_TIMEOUT_SECONDS):
        self.host, self.port, self.user, self.password, self.tls, self.timeout = host, port, user, password, tls, timeout
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, cfg) -> "Smtp":
        return cls(cfg.smtp_host, cfg.smtp_port, cfg.smtp_user, cfg.smtp_password, cfg.smtp_tls)

    def _connect(self) -> smtplib.SMTP:
        if self.port == 465:
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.tls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
        if self.user:
            conn.login(self.user, self.password)
        return conn

    def send(self, msg: EmailMessage) -> None:
        if self._conn is None:
            self._conn = self._connect()
        self._conn.send_message(msg)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> "Smtp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
