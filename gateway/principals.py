"""Who a token's holder is now: the existence and role of its user, as accounts knows them.

A token names a user and the role they had when they logged in; the role may have changed since and
the user may be gone. The gateway asks accounts on every request that carries a token and remembers
the answer for PRINCIPAL_CACHE_SECONDS (a few seconds). A role change drops the entry at once: in
the replica that made it, and in every other through accounts' `role_changed` event.
"""
from __future__ import annotations

import time

MAX_ENTRIES = 100_000


class Principals:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, dict | None]] = {}
        self._forgotten = 0  # counts forgets: an answer asked for before one is not kept

    def current(self, city_id: str, user_id: str, lookup) -> dict | None:
        """The principal as accounts has it now (None: no such user), from `lookup(city_id, user_id)`
        or from what it answered less than `ttl` seconds ago."""
        key = (str(city_id), str(user_id))
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        forgotten = self._forgotten
        answer = lookup(*key)
        if forgotten == self._forgotten and self.ttl > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.ttl, answer)
        return answer

    def forget(self, city_id, user_id) -> None:
        self._forgotten += 1
        self._entries.pop((str(city_id), str(user_id)), None)


_principals: Principals | None = None


def principals() -> Principals:
    global _principals
    if _principals is None:
        from services.common.config import settings

        _principals = Principals(settings().principal_cache_seconds)
    return _principals
