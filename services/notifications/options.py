"""Settings of the notifications service read from the environment (beyond services.common.config).

| variable | default | meaning |
|---|---|---|
| `WEBHOOK_TIMEOUT_SECONDS` | 5 | whole-request limit of one delivery attempt |
| `WEBHOOK_RETRY_BASE_SECONDS` | 10 | first retry delay; each next one is 3x longer (10 s, 30 s, 90 s, ...) |
| `WEBHOOK_RETRY_MAX_SECONDS` | 21600 | cap of one retry delay (6 h) |
| `WEBHOOK_MAX_ATTEMPTS` | 8 | attempts before a delivery is marked failed |
| `WEBHOOK_CONCURRENCY` | 20 | deliveries in flight per process |
| `WEBHOOK_PER_SUBSCRIPTION` | 4 | deliveries in flight per subscription, so one slow receiver cannot take every slot |
| `MAIL_POLL_SECONDS` | 1 | how often pending instant e-mails are picked up |
| `MAIL_MAX_ATTEMPTS` | 6 | attempts before an e-mail is marked failed |
| `DIGEST_HOUR_UTC` | 7 | the hour (UTC) after which the daily digest goes out |
| `DIGEST_CHECK_SECONDS` | 300 | how often the digest timer checks whether today's digest is due |
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    webhook_timeout: float = 5.0
    webhook_retry_base: float = 10.0
    webhook_retry_max: float = 6 * 3600.0
    webhook_max_attempts: int = 8
    webhook_concurrency: int = 20
    webhook_per_subscription: int = 4
    mail_poll: float = 1.0
    mail_max_attempts: int = 6
    digest_hour_utc: int = 7
    digest_check: float = 300.0

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Options":
        get = (os.environ if env is None else env).get
        return cls(
            webhook_timeout=float(get("WEBHOOK_TIMEOUT_SECONDS", cls.webhook_timeout)),
            webhook_retry_base=float(get("WEBHOOK_RETRY_BASE_SECONDS", cls.webhook_retry_base)),
            webhook_retry_max=float(get("WEBHOOK_RETRY_MAX_SECONDS", cls.webhook_retry_max)),
            webhook_max_attempts=int(get("WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts)),
            webhook_concurrency=int(get("WEBHOOK_CONCURRENCY", cls.webhook_concurrency)),
            webhook_per_subscription=int(get("WEBHOOK_PER_SUBSCRIPTION", cls.webhook_per_subscription)),
            mail_poll=float(get("MAIL_POLL_SECONDS", cls.mail_poll)),
            mail_max_attempts=int(get("MAIL_MAX_ATTEMPTS", cls.mail_max_attempts)),
            digest_hour_utc=int(get("DIGEST_HOUR_UTC", cls.digest_hour_utc)),
            digest_check=float(get("DIGEST_CHECK_SECONDS", cls.digest_check)),
        )


_options: Options | None = None


def options() -> Options:
    global _options
    if _options is None:
        _options = Options.from_env()
    return _options
