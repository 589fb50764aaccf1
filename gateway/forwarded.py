"""The client's address behind proxies: the right-most `X-Forwarded-For` entry not written by a trusted proxy.

Each proxy appends the address it received the request from, so entries to the left of the last
trusted proxy's are whatever the client chose to write. TRUSTED_PROXIES names the proxies either by
count (`1`: the peer is the one proxy; `2`: the peer and the entry it appended are proxies) or by
their addresses and networks (`10.0.0.0/8,fd00::/8`): walking from the right, the first address
outside them is the client. Without TRUSTED_PROXIES the header is ignored.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

MAX_ENTRIES = 32


@lru_cache(maxsize=8)
def parse_trusted(spec: str) -> int | tuple:
    """A hop count, or a tuple of networks."""
    spec = (spec or "").strip()
    if not spec:
        return 0
    if spec.isdigit():
        return int(spec)
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def client_address(peer: str, forwarded: str | None, trusted_spec: str) -> str:
    trusted = parse_trusted(trusted_spec)
    if not forwarded or not trusted:
        return peer
    chain = [e.strip() for e in forwarded.split(",")[-MAX_ENTRIES:] if e.strip()] + [peer]
    if isinstance(trusted, int):
        return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]
    for address in reversed(chain):
        if not _within(address, trusted):
            return address
    return chain[0]


def _within(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
