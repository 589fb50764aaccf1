"""Development only: the e-mail the platform sent, as the development mail server caught it.

`make run` starts scripts/mail_catcher.py, which keeps every message in the Maildir DEV_MAIL_DIR; these
pages list them (/_dev/mail) and show one (/_dev/mail/<key>), so sign-up, notification and digest
e-mails can be followed without a mail server. The routes exist only when DEV_MAIL_DIR is set and
AGORA_ENV is not `production` (`enabled()`); the site then registers them (web/app.py).
"""
from __future__ import annotations

import mailbox
import os
import re
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.pages import render
from web.settings import get_settings

LIMIT = 200  # messages listed, newest first
_URL = re.compile(r"https?://[^\s<>\"']+")


def mail_dir() -> Path | None:
    folder = os.environ.get("DEV_MAIL_DIR", "").strip()
    return Path(folder) if folder else None


def enabled() -> bool:
    return mail_dir() is not None and not get_settings().production


def _summary(key: str, message: EmailMessage, delivered: float) -> dict:
    try:
        sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    return {"key": key, "subject": str(message["Subject"] or ""), "to": str(message["To"] or ""),
            "sender": str(message["From"] or ""),
            "sent": sent or datetime.fromtimestamp(delivered, timezone.utc)}


def _box() -> mailbox.Maildir | None:
    folder = mail_dir()
    if folder is None or not (folder / "new").is_dir():
        return None
    return mailbox.Maildir(folder, create=False)


def _latest(limit: int) -> tuple[list[dict], int]:
    """The headers of the `limit` messages delivered last (newest first), and how many there are.
    Only those are read: a busy demo city leaves thousands."""
    folder, box = mail_dir(), _box()
    if box is None:
        return [], 0
    files = []
    for sub in ("new", "cur"):
        with os.scandir(folder / sub) as entries:
            files += [(entry.stat().st_mtime, entry.name.split(":", 1)[0], entry.path)
                      for entry in entries if entry.is_file() and not entry.name.startswith(".")]
    files.sort(reverse=True)
    parser = BytesHeaderParser(policy=policy.default)
    found = []
    for delivered, key, path in files[:limit]:
        try:
            with open(path, "rb") as fp:
                found.append(_summary(key, parser.parse(fp), delivered))
        except OSError:  # read or moved meanwhile
            continue
    return found, len(files)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":  # shown as text: no outside markup inside the site
        content = re.sub(r"<[^>]+>", " ", content)
    return content


def _linked(text: str) -> Markup:
    """The text, escaped, in paragraphs, with its web addresses as links (so a confirmation link can be
    followed)."""
    def line(chunk: str) -> Markup:
        out, last = [], 0
        for match in _URL.finditer(chunk):
            out += [escape(chunk[last:match.start()]),
                    Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(match.group(0))]
            last = match.end()
        out.append(escape(chunk[last:]))
        return Markup("").join(out)

    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(Markup("<br>").join(line(l) for l in p.strip().split("\n")))
                           for p in paragraphs)


async def inbox(request: Request) -> Response:
    messages, total = _latest(LIMIT)
    return render(request, "devmail/list.html", {"messages": messages, "total": total, "folder": str(mail_dir())})


async def message(request: Request) -> Response:
    box, key = _box(), request.path_params["key"]
    try:
        caught = box.get_message(key) if box is not None else None
    except (KeyError, OSError):
        caught = None
    if caught is None:
        raise HTTPException(status_code=404)
    found = BytesParser(policy=policy.default).parsebytes(caught.as_bytes())
    attachments = [part.get_filename() for part in found.iter_attachments() if part.get_filename()]
    return render(request, "devmail/message.html", {
        "message": _summary(key, found, caught.get_date()), "body": _linked(_text(found)),
        "attachments": attachments,
        "alternatives": [p.get_content_type() for p in found.walk() if p.get_content_maintype() == "text"],
    })


routes = [
    Route("/_dev/mail", inbox, name="devmail"),
    Route("/_dev/mail/{key:str}", message, name="devmail-message"),
]
