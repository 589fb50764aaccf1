"""Token buckets shared by every gateway replica (in Redis), with one in the process when Redis is away.

A bucket holds `capacity` tokens and refills at `capacity / per_seconds` a second; each attempt
takes one. In Redis a bucket is a hash updated by one Lua script on Redis's own clock, so replicas
with skewed clocks agree. When Redis does not answer, each replica limits on its own (the same
limits, per replica) and says so in the log and in `agora_rate_limit_fallback_total`, trying Redis
again after a few seconds: a login limit that holds per replica is better than none, and a Redis
outage must not stop every login.
"""
from __future__ import annotations

import time
from collections import OrderedDict

import redis
from prometheus_client import Counter

from services.common import logs

FALLBACK = Counter("agora_rate_limit_fallback_total",
                   "Rate-limit checks made in the process because Redis did not answer")
RETRY_REDIS_SECONDS = 5.0

# KEYS[1] the bucket; ARGV capacity, refill per second. Answers the seconds to wait (0: allowed), as a string.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class LocalBuckets:
    """Token buckets in this process only."""

    def __init__(self, max_keys: int = 100_000):
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, capacity: int, rate: float, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(capacity), now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class SharedBuckets:
    """Token buckets in Redis; the process's own while Redis does not answer."""

    def __init__(self, url: str, prefix: str = "agora"):
        self.url, self.prefix = url, prefix
        self.local = LocalBuckets()
        self._client = None
        self._script = None
        self._down_until = 0.0

    def take(self, key: str, capacity: int, rate: float) -> float:
        if time.monotonic() >= self._down_until:
            try:
                return float(self._take(f"{self.prefix}:ratelimit:{key}", capacity, rate))
            except redis.RedisError as exc:
                self._down_until = time.monotonic() + RETRY_REDIS_SECONDS
                logs.get(component="ratelimit").error(
                    "rate_limit_redis_unreachable", url=_safe(self.url), error=str(exc),
                    fallback="limits are kept per gateway replica until Redis answers",
                    retry_in_seconds=RETRY_REDIS_SECONDS)
        FALLBACK.inc()
        return self.local.take(key, capacity, rate)

    def _take(self, key: str, capacity: int, rate: float):
        if self._client is None:
            self._client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
            self._script = self._client.register_script(_TAKE)
        return self._script(keys=[key], args=[capacity, rate])


class RateLimiter:
    """`capacity` attempts per `per_seconds` for each key, in the given buckets (the process's own by default)."""

    def __init__(self, capacity: int, per_seconds: float, *, name: str = "", buckets=None, max_keys: int = 100_000):
        self.name, self.capacity, self.rate = name, capacity, capacity / per_seconds
        self.buckets = buckets if buckets is not None else LocalBuckets(max_keys)

    def hit(self, key: str, now: float | None = None) -> float:
        """Take one token; 0 when allowed, else the seconds to wait."""
        key = f"{self.name}:{key}" if self.name else key
        if isinstance(self.buckets, LocalBuckets):
            return self.buckets.take(key, self.capacity, self.rate, now)
        return self.buckets.take(key, self.capacity, self.rate)


def _safe(url: str) -> str:
    """The URL without its password, for the log."""
    head, sep, tail = url.rpartition("@")
    return ("redis://***@" + tail) if sep else url
