"""The development mail of `make run`: scripts/mail_catcher.py takes real SMTP and keeps each message in
a Maildir, and the web site's /_dev/mail lists and shows them, only outside production."""
from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def catcher(tmp_path):
    port = free_port()
    folder = tmp_path / "devmail"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "mail_catcher.py"), "--port", str(port),
                             "--dir", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"the mail server did not start: {proc.stdout.read()}")
    yield port, folder
    proc.terminate()
    assert proc.wait(10) == 0, "the mail server stops cleanly on SIGTERM"


def send(port: int, to: str, subject: str, text: str, html: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Agora <no-reply@agora.local>", to, subject
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def site(monkeypatch, folder: Path | None, env: str = "development"):
    from starlette.testclient import TestClient

    from web.settings import get_settings

    monkeypatch.setenv("AGORA_ENV", env)
    monkeypatch.setenv("WEB_SECRET_KEY", "a-secret-only-for-this-test-0123456789")
    if folder is None:
        monkeypatch.delenv("DEV_MAIL_DIR", raising=False)
    else:
        monkeypatch.setenv("DEV_MAIL_DIR", str(folder))
    get_settings.cache_clear()
    from web.app import create_app

    return TestClient(create_app())


def test_caught_mail_is_listed_and_shown(catcher, monkeypatch):
    port, folder = catcher
    send(port, "ann@example.org", "Welcome to Demo City", "Hello Ann,\n\nConfirm: http://127.0.0.1:8080/demo/confirm?t=abc")
    send(port, "bob@example.org", "Bob's <b>digest</b> é", "Three new ideas.", html="<p>Three <i>new</i> ideas.</p>")
    deadline = time.monotonic() + 10
    while len(list((folder / "new").iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        with site(monkeypatch, folder) as client:
            page = client.get("/_dev/mail")
            assert page.status_code == 200
            assert "2 e-mails" in page.text
            # newest first, subjects escaped, not interpreted
            assert page.text.index("digest") < page.text.index("Welcome to Demo City")
            assert "Bob&#39;s &lt;b&gt;digest&lt;/b&gt; é" in page.text and "<b>digest</b>" not in page.text
            links = [line.split('href="', 1)[1].split('"', 1)[0] for line in page.text.splitlines()
                     if 'href="/_dev/mail/' in line]
            assert len(links) == 2
            welcome = client.get(links[1])
            assert welcome.status_code == 200
            assert "ann@example.org" in welcome.text
            # the confirmation link can be followed
            assert '<a href="http://127.0.0.1:8080/demo/confirm?t=abc"' in welcome.text
            assert client.get("/_dev/mail/no-such-message").status_code == 404
    finally:
        from web.settings import get_settings

        get_settings.cache_clear()


def test_no_mail_page_without_the_development_setting(monkeypatch, tmp_path):
    try:
        with site(monkeypatch, None) as client:
            assert client.get("/_dev/mail").status_code == 404
        with site(monkeypatch, tmp_path, env="production") as client:
            assert client.get("/_dev/mail").status_code == 404
    finally:
        from web.settings import get_settings

        get_settings.cache_clear()
        os.environ.pop("DEV_MAIL_DIR", None)
