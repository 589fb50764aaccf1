"""Says where to open the site once `make run` has started it, then waits with the other processes.

Waits for the gateway's /readyz (every service answers) and the web site's /healthz, then prints the
addresses: the site, the demo city (filled by `make demo`), the API and the caught e-mail. It keeps
running afterwards, because honcho stops everything when one of its processes exits.
"""
from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request

GATEWAY = f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}"
WEB = os.environ.get("WEB_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8080')}").rstrip("/")
CITY = os.environ.get("DEMO_CITY", "demo")


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def wait_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status(f"{GATEWAY}/readyz") == 200 and status(f"{WEB}/healthz") == 200:
            return True
        time.sleep(1)
    return False


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    ready = wait_ready(float(os.environ.get("READY_TIMEOUT", "180")))
    demo = status(f"{GATEWAY}/api/v1/cities/{CITY}") == 200
    lines = [
        "",
        "Agora is running." if ready else "Agora is not ready yet (see the logs above); it may still come up.",
        f"  web site         {WEB}/",
        f"  demo city        {WEB}/{CITY}/" + ("" if demo else "   (run `make demo` in another terminal to fill it)"),
        f"  HTTP API         {GATEWAY}/api/v1   (and {GATEWAY}/openapi.json)",
    ]
    if os.environ.get("DEV_MAIL_DIR"):
        lines.append(f"  caught e-mail    {WEB}/_dev/mail   (SMTP on {os.environ.get('SMTP_HOST', '127.0.0.1')}:"
                     f"{os.environ.get('SMTP_PORT', '1025')})")
    lines += ["Ctrl-C stops everything.", ""]
    print("\n".join(lines), flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
