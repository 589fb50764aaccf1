"""The development mail server of `make run`: an SMTP server on loopback that keeps every message.

The platform sends its e-mail to SMTP_HOST:SMTP_PORT (127.0.0.1:1025 in development); this server
takes every message (any sender, any recipient, nothing relayed) and stores it in the Maildir
DEV_MAIL_DIR, where the web site's development mail page (/_dev/mail) lists it.

    python scripts/mail_catcher.py [--host 127.0.0.1] [--port 1025] [--dir .venv/devmail]
"""
from __future__ import annotations

import argparse
import mailbox
import os
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / ".venv" / "devmail"


def maildir(path: Path) -> Path:
    """A Maildir at `path`, created with its three folders when missing."""
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(path, create=False)  # fails early if the folder is not usable
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("SMTP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMTP_PORT", "1025")))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("DEV_MAIL_DIR", DEFAULT_DIR)))
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error(f"the development mail server listens on loopback only, not {args.host}")

    folder = maildir(args.dir.resolve())
    controller = Controller(Mailbox(folder), hostname=args.host, port=args.port)
    controller.start()
    print(f"Development mail server on {args.host}:{args.port}; every message is kept in {folder}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
