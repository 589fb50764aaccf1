"""A real SMTP server on loopback for the tests: aiosmtpd in a subprocess, storing mail in a Maildir."""
from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

from support import free_port


class SmtpSink:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> "SmtpSink":
        for sub in ("tmp", "new", "cur"):  # a Maildir, in a directory that may exist already
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the test SMTP server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def messages(self, to: str | None = None) -> list:
        """Every message received so far (email.message.EmailMessage), optionally only those to one address."""
        if not (self.directory / "new").exists():
            return []
        parser = BytesParser(policy=policy.default)
        found = [parser.parsebytes(m.as_bytes()) for m in mailbox.Maildir(self.directory, create=False)]
        if to is not None:
            found = [m for m in found if to.lower() in str(m["To"]).lower()]
        return found
