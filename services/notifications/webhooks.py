"""Webhook rules: which event types a subscription names, where it may point, how a delivery is signed
and when a failed one is tried again. Plain functions; the sender and the service do the I/O.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from urllib.parse import urlsplit

# The event types agreed in docs/dev/contracts.md. The registry of declared schemas
# (services.common.events.REGISTRY) is added to these, so a new event is subscribable as soon as it
# is declared, and these are subscribable even before their service is deployed.
CONTRACT_TYPES = frozenset({
    "accounts.city_created", "accounts.user_registered", "accounts.user_updated", "accounts.role_changed",
    "ideas.project_created", "ideas.project_updated", "ideas.idea_created", "ideas.idea_updated",
    "ideas.idea_deleted", "ideas.idea_status_changed", "ideas.comment_created", "ideas.comment_deleted",
    "ideas.content_hidden", "ideas.content_restored",
    "voting.vote_cast", "voting.vote_changed", "voting.vote_withdrawn", "voting.poll_answered",
    "gamification.points_awarded", "gamification.badge_earned", "gamification.level_up",
    "budgeting.phase_changed", "budgeting.ballot_submitted", "budgeting.results_published",
    "notifications.webhook_delivery_failed",
})
# Exchanges the webhook feed binds to (`<service>.events`, routing key `#`).
SOURCE_SERVICES = ("accounts", "ideas", "voting", "gamification", "budgeting", "notifications", "analytics")
MAX_URL_LENGTH = 2048
SIGNATURE_PREFIX = "sha256="


def known_types() -> frozenset[str]:
    from services.common.eventdocs import load_all
    from services.common.events import REGISTRY

    try:
        load_all()
    except Exception:  # a schema module of another service that does not import must not stop webhooks
        pass
    return CONTRACT_TYPES | frozenset(REGISTRY)


def aliases(types) -> dict[str, str]:
    """Short names of API.md (`idea.created`) for full bus names (`ideas.idea_created`).

    The short name is the event name split at its first underscore: `ideas.idea_status_changed` is
    `idea.status_changed`, `voting.vote_cast` is `vote.cast`. A short name two types would share is left out.
    """
    found: dict[str, list[str]] = {}
    for full in types:
        name = full.split(".", 1)[1]
        if "_" in name:
            entity, action = name.split("_", 1)
            found.setdefault(f"{entity}.{action}", []).append(full)
    return {short: fulls[0] for short, fulls in found.items() if len(fulls) == 1 and short not in types}


def normalize_events(requested: list[str], types) -> tuple[list[str], list[dict]]:
    """Canonical patterns for what a subscriber asked, and the issues of what is not an event type.

    Accepted: a full type (`ideas.idea_created`), its short form (`idea.created`), every event of a
    service (`ideas.*` or `ideas.#`), and everything (`*` or `#`).
    """
    types = frozenset(types)
    short = aliases(types)
    services = {t.split(".", 1)[0] for t in types}
    patterns, issues = [], []
    for i, raw in enumerate(requested):
        value = raw.strip() if isinstance(raw, str) else ""
        if value in ("*", "#"):
            pattern = "*"
        elif value.endswith((".*", ".#")) and value[:-2] in services:
            pattern = value[:-2] + ".*"
        elif value in types:
            pattern = value
        elif value in short:
            pattern = short[value]
        else:
            issues.append({"field": f"events.{i}", "issue": f"unknown event type {raw!r}"})
            continue
        if pattern not in patterns:
            patterns.append(pattern)
    if not requested:
        issues.append({"field": "events", "issue": "name at least one event type"})
    return patterns, issues


def matches(patterns, event_type: str) -> bool:
    service = event_type.split(".", 1)[0]
    return any(p == "*" or p == event_type or p == service + ".*" for p in patterns)


# -- where a webhook may point ---------------------------------------------------------------------
class RefusedTarget(ValueError):
    """The URL is not one the platform will send to."""


DEFAULT_PORTS = (80, 443)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REFUSED = "points to an address webhooks may not reach (loopback, private, link-local or reserved)"


def check_url(url: str) -> tuple[str, int]:
    """Syntax of a webhook URL: http(s), a host, no credentials. Returns (host, port)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise RefusedTarget(f"must be an http or https URL of at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() for c in url):
        raise RefusedTarget("must not contain spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedTarget("is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget("must be an http or https URL")
    if not parts.hostname:
        raise RefusedTarget("has no host")
    if parts.username or parts.password:
        raise RefusedTarget("must not carry credentials; receivers verify the signature instead")
    if parts.fragment:
        raise RefusedTarget("must not have a fragment")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002::/16), Teredo
    (2001::/32, the client), NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refused(address: str) -> str | None:
    """Why an IP address may not be a webhook target (None when it may). An IPv6 address that carries
    an IPv4 one is judged by both: 6to4 of 127.0.0.1 is as loopback as 127.0.0.1."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            candidates.insert(0, inner)
    for candidate in candidates:
        for attribute, why in (
            ("is_loopback", "loopback"), ("is_link_local", "link-local"), ("is_multicast", "multicast"),
            ("is_unspecified", "unspecified"), ("is_reserved", "reserved"), ("is_private", "private"),
        ):
            if getattr(candidate, attribute):
                return why
        if not candidate.is_global:
            return "not public"
    return None


def literal_address(host: str) -> str | None:
    """The IP address a host written as one stands for, legacy forms included (`2130706433`, `127.1`, `0x7f.1`)."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, IPv4 first (the order the sender tries them)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        raise RefusedTarget(f"host {host!r} does not resolve") from None
    return sorted({info[4][0] for info in infos}, key=lambda a: (":" in a, a))


def check_target(url: str, allow_private: bool, resolver=resolve, allowed_ports=()) -> list[str]:
    """Refuse a URL whose port is not 80, 443 or one of `allowed_ports`, or whose host is, or resolves
    to, a private, loopback, link-local, multicast or reserved address (both unless `allow_private`).
    Every resolved address must be public: a name with one public and one private address is refused.
    The message never says what the host resolved to. Returns the checked addresses, which are the
    ones to connect to (resolving again could answer otherwise)."""
    host, port = check_url(url)
    addresses = resolver(host, port)
    if not addresses:
        raise RefusedTarget(f"host {host!r} does not resolve")
    if allow_private:
        return addresses
    if any(address_refused(a) for a in addresses):
        raise RefusedTarget(_REFUSED)
    ports = (*DEFAULT_PORTS, *(p for p in allowed_ports if p not in DEFAULT_PORTS))
    if port not in ports:
        raise RefusedTarget(f"must use port {', '.join(map(str, ports))}")
    return addresses


# -- what a delivery carries -------------------------------------------------------------------------
def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def body_of(envelope: dict) -> str:
    """The exact bytes (as text) of a delivery: the envelope, compact JSON, sent the same on every attempt."""
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (see docs/webhooks.md): a fresh timestamp and a matching signature."""
    try:
        if abs(now - int(timestamp)) > tolerance:
            return False
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def headers(*, event_id: str, event_type: str, delivery_id: str, timestamp: int, signature: str) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Agora-Webhooks/1",
        "X-Agora-Event-Id": event_id,
        "X-Agora-Event-Type": event_type,
        "X-Agora-Delivery-Id": delivery_id,
        "X-Agora-Timestamp": str(timestamp),
        "X-Agora-Signature": signature,
    }


# -- when to try again ---------------------------------------------------------------------------------
def retry_delay(attempt: int, base: float, cap: float, factor: float = 3.0) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base, 3x base, 9x base ... capped."""
    return min(base * factor ** max(attempt - 1, 0), cap)


def succeeded(status_code: int | None) -> bool:
    """Only a 2xx answer is a delivery; redirects are not followed and count as failures."""
    return status_code is not None and 200 <= status_code < 300


def next_state(attempt: int, status_code: int | None, max_attempts: int, base: float, cap: float,
               retryable: bool = True) -> tuple[str, float | None]:
    """(`delivered` | `pending` | `failed`, seconds until the next attempt or None)."""
    if succeeded(status_code):
        return "delivered", None
    if not retryable or attempt >= max_attempts:
        return "failed", None
    return "pending", retry_delay(attempt, base, cap)
