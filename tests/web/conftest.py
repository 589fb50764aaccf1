"""Fixtures of the web site's tests: the platform (tests/conftest.py's `platform` and `api`), the site as
a real uvicorn process pointed at its gateway, Debian's Chromium driven by Playwright, and helpers.

Fixtures to reuse:
  web_server           the site (session): .url, .log_tail(); start_web_server(gateway_url, **env) for another
  site                 an httpx client of the site with its own cookies: .csrf(path), .login(city, user)
  browser              Chromium (session); `page` a fresh context and page per test (1280x800)
  new_page()           another fresh context and page (a second citizen), closed after the test
  login(page, city, user, next=None)   signs in through the log-in form
  axe_check(page)      runs axe-core: no serious or critical violation
  layout_check(page, name)   no sideways scroll at 390x844; screenshots at 390x844 and 1280x800 in web/screenshots/
  web_city             a city (en, nl, fr) with an active ideation project and two citizens; make_city(**kw) for more
  make_idea(city, project, user, **fields)  an idea posted through the API
  grid_columns(page, selector)   how many columns a CSS grid shows
"""
from __future__ import annotations

import asyncio
import ctypes
import asyncio.unix_events
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import eventlet.patcher
import httpx
import pytest

from support import ROOT, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "web" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "citizen-password-1"   # tests/support.py's Api.new_user


def _end_with_the_tests() -> None:
    """In the child: SIGTERM when the test process ends, even if it is killed (Linux's PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)


class WebServer:
    def __init__(self, gateway_url: str, log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / "web.log"
        self.env = {**os.environ, "GATEWAY_URL": gateway_url, "WEB_PORT": str(self.port), "WEB_HOST": "127.0.0.1",
                    "WEB_SECRET_KEY": secrets.token_urlsafe(32), "PYTHONUNBUFFERED": "1"}
        self.process = None

    def start(self, timeout: float = 30) -> "WebServer":
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "web.app:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "info"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_end_with_the_tests if sys.platform == "linux" else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web site exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the web site did not start in {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@pytest.fixture(scope="session")
def web_server(platform, tmp_path_factory):
    server = WebServer(platform.url, tmp_path_factory.mktemp("web")).start()
    yield server
    server.stop()


@pytest.fixture
def start_web_server(tmp_path):
    """Another site process, pointed at any gateway (a dead one shows the 503 page); stopped after the test."""
    servers = []

    def start(gateway_url: str, **env) -> WebServer:
        server = WebServer(gateway_url, tmp_path)
        server.env.update(env)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


class SiteClient(httpx.Client):
    """The site over HTTP, as one visitor (one cookie jar)."""

    def csrf(self, path: str) -> str:
        """The CSRF token of this visitor's session, read from a page's form."""
        page = self.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {path}: {page.status_code}"
        return found.group(1)

    def login(self, city: dict, user: dict) -> httpx.Response:
        slug = city["slug"]
        token = self.csrf(f"/{slug}/login")
        r = self.post(f"/{slug}/login", data={"email": user["email"], "password": PASSWORD, "csrf_token": token,
                                              "next": f"/{slug}/"})
        assert r.status_code == 303, r.text[:500]
        return r


@pytest.fixture
def site(web_server):
    with SiteClient(base_url=web_server.url, follow_redirects=False, timeout=30) as client:
        yield client


def _unpatch_asyncio_pipes() -> None:
    """asyncio's pipe transports read and write with the original os.read/os.write.

    tests/conftest.py monkey-patches the process with eventlet (for nameko). Playwright's sync API talks
    to its driver over pipes from an asyncio loop; eventlet's green os.read hands a read that would
    block to eventlet's hub, which never hands it back to that loop, and the test waits forever (after
    a form's navigation, typically)."""
    real = eventlet.patcher.original("os")
    shim = types.ModuleType("os")
    shim.__dict__.update(os.__dict__)
    shim.read, shim.write = real.read, real.write
    asyncio.unix_events.os = shim


@pytest.fixture(scope="session")
def browser(web_server):
    """Debian's Chromium (a fresh profile in a temporary directory), one for the whole session."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    _unpatch_asyncio_pipes()
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                          env={**os.environ, "TMPDIR": tempfile.mkdtemp(prefix="agora-chromium-")})
    yield chromium
    chromium.close()
    # playwright.stop() would wait on asyncio's child watcher, a thread eventlet has made green that no
    # longer runs: the driver ends with the test process instead.


@pytest.fixture
def new_page(browser, web_server):
    contexts = []

    def make(viewport: dict = DESKTOP):
        context = browser.new_context(base_url=web_server.url, viewport=viewport, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def login():
    def sign_in(page, city: dict, user: dict, next: str | None = None):
        target = f"/{city['slug']}/login" + (f"?next={next}" if next else "")
        page.goto(target)
        page.fill("#f-email", user["email"])
        page.fill("#f-password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, page.content()[:1000]

    return sign_in


@pytest.fixture(scope="session")
def axe_source() -> str:
    assert AXE.exists(), "axe-core is missing: run `npm ci` in web/ (make install does)"
    return AXE.read_text()


@pytest.fixture
def axe_check(axe_source):
    def check(page, name: str = "") -> list:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays on
            page.evaluate(axe_source + "\n;undefined")
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe on {name or page.url}: {bad}"
        return result

    return check


@pytest.fixture
def layout_check():
    """No sideways scrolling at 390x844; screenshots at both sizes; the page is left at 1280x800."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(page, name: str) -> None:
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(50)
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert sideways <= 0, f"{name} scrolls sideways by {sideways}px at 390x844"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-390x844.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        page.wait_for_timeout(50)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-1280x800.png"), full_page=True)

    return check


@pytest.fixture
def grid_columns():
    """How many columns a grid shows (1 on a phone, more on a desktop): grid_columns(page, ".cards")."""
    def columns(page, selector: str = ".cards") -> int:
        return page.evaluate(
            "s => getComputedStyle(document.querySelector(s)).gridTemplateColumns.split(' ').length", selector)

    return columns


@pytest.fixture
def make_city(api):
    def make(locales=("en", "nl", "fr"), topics=("mobility", "green", "safety"), method="ideation",
             citizens: int = 2, **project_fields) -> dict:
        city = api.new_city(locales=locales)
        body = {"title": {"en": "A greener centre", "nl": "Een groener centrum", "fr": "Un centre plus vert"},
                "description": {"en": "Where should the city plant trees and make room for bikes?",
                                "nl": "Waar moet de stad bomen planten en ruimte maken voor fietsen?",
                                "fr": "Où la ville doit-elle planter des arbres et faire place aux vélos ?"},
                "method": method, "topics": list(topics), **project_fields}
        r = api.post(f"/cities/{city['slug']}/projects", token=city["admin_token"], json=body)
        assert r.status_code == 201, r.text
        city["project"] = r.json()
        city["citizens"] = [api.new_user(city, display_name=f"Citizen {i + 1}") for i in range(citizens)]
        return city

    return make


@pytest.fixture
def web_city(make_city):
    return make_city()


@pytest.fixture
def make_idea(api):
    def make(city: dict, project: dict, user: dict, **fields) -> dict:
        body = {"title": "More trees on the market square", "body": "Shade in summer and a nicer square all year.",
                **fields}
        r = api.post(f"/cities/{city['slug']}/projects/{project['id']}/ideas", token=user["token"], json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return make


