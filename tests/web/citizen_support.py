"""Helpers of the citizen pages' browser tests.

Waits go through the browser's driver (locator.wait_for), never through Playwright's Python-side waiters
(wait_for_load_state, wait_for_url, expect_*): under the root conftest's eventlet monkey-patching those
can miss their event and their timer alike, and a test then hangs instead of failing.
"""
from __future__ import annotations

import re

PASSWORD = "citizen-password-1"   # tests/support.py's Api.new_user


def sign_in(page, city: dict, user: dict, next: str | None = None) -> None:
    """Log in through the log-in form and wait until the header names the citizen."""
    page.goto(f"/{city['slug']}/login" + (f"?next={next}" if next else ""))
    page.fill("#f-email", user["email"])
    page.fill("#f-password", PASSWORD)
    page.click("main form button[type=submit]")
    page.locator("header .account__name").wait_for()


def submit_and_wait(page, button, selector: str) -> None:
    """Click a submit button and wait for an element of the page it leads to."""
    button.click()
    page.locator(selector).first.wait_for()


def csrf_of(page) -> str:
    """The CSRF token of the page's session (every page's log-out form carries it)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.content())
    assert found, "no CSRF token on the page"
    return found.group(1)


def text_of(html: str) -> str:
    """A page's text without its tags, spaces folded: what a reader sees, for assertions over HTTP."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())
