"""Configuration read from the environment, one place for every variable the platform reads."""
from __future__ import annotations

import os
from dataclasses import dataclass

DEV_JWT_SECRET = "agora-development-secret-change-me"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _on_unless_off(value: str) -> bool:
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _flag_threshold(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return Settings.flag_threshold
    return n if n >= 1 else Settings.flag_threshold


def _names(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


@dataclass(frozen=True)
class Settings:
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql://root@127.0.0.1:5432/agora"
    environment: str = "development"
    gateway_port: int = 8000
    platform_admin_key: str = "dev-platform-key"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_seconds: int = 3600
    rpc_timeout: float = 5.0
    ops_port: int = 9100
    log_level: str = "INFO"
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: bool = False
    mail_from: str = "Agora <no-reply@agora.local>"
    webhook_allow_private: bool = False
    trust_forwarded_for: bool = False
    login_attempts_per_account: int = 10
    login_attempts_per_address: int = 60
    # the services this deployment runs (the gateway's readiness checks them); empty: all of them
    agora_services: tuple[str, ...] = ()
    # PREPARE text() statements once per connection (services/common/rawsql.py); off behind a pooler
    # in transaction mode
    db_prepared_statements: bool = True
    # analytics: how often a replica looks for a requested rebuild
    analytics_rebuild_check_seconds: float = 10.0
    # ideas: open flags that hide content, when a project sets no threshold of its own
    flag_threshold: int = 3
    # notifications (services/notifications/options.py)
    webhook_timeout_seconds: float = 5.0  # whole-request limit of one delivery attempt
    webhook_retry_base_seconds: float = 10.0  # first retry delay; each next one is 3x longer
    webhook_retry_max_seconds: float = 6 * 3600.0  # cap of one retry delay
    webhook_max_attempts: int = 8  # attempts before a delivery is marked failed
    webhook_concurrency: int = 20  # deliveries in flight per process
    webhook_per_subscription: int = 4  # in flight per subscription: one slow receiver cannot take every slot
    mail_poll_seconds: float = 1.0  # how often pending instant e-mails are picked up
    mail_max_attempts: int = 6  # attempts before an e-mail is marked failed
    digest_hour_utc: int = 7  # the hour (UTC) after which the daily digest goes out
    digest_check_seconds: float = 300.0  # how often the digest timer checks whether it is due

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        get = env.get
        settings = cls(
            amqp_uri=get("AMQP_URI", cls.amqp_uri),
            database_url=get("DATABASE_URL", cls.database_url),
            environment=get("AGORA_ENV", cls.environment),
            gateway_port=int(get("GATEWAY_PORT", cls.gateway_port)),
            platform_admin_key=get("PLATFORM_ADMIN_KEY", cls.platform_admin_key),
            jwt_secret=get("JWT_SECRET", cls.jwt_secret),
            jwt_ttl_seconds=int(get("JWT_TTL_SECONDS", cls.jwt_ttl_seconds)),
            rpc_timeout=float(get("RPC_TIMEOUT", cls.rpc_timeout)),
            ops_port=int(get("OPS_PORT", cls.ops_port)),
            log_level=get("LOG_LEVEL", cls.log_level),
            public_url=get("PUBLIC_URL", cls.public_url).rstrip("/"),
            smtp_host=get("SMTP_HOST", cls.smtp_host),
            smtp_port=int(get("SMTP_PORT", cls.smtp_port)),
            smtp_user=get("SMTP_USER", cls.smtp_user),
            smtp_password=get("SMTP_PASSWORD", cls.smtp_password),
            smtp_tls=_bool(get("SMTP_TLS", "0")),
            mail_from=get("MAIL_FROM", cls.mail_from),
            webhook_allow_private=_bool(get("WEBHOOK_ALLOW_PRIVATE", "0")),
            trust_forwarded_for=_bool(get("TRUST_FORWARDED_FOR", "0")),
            login_attempts_per_account=int(get("LOGIN_ATTEMPTS_PER_ACCOUNT", cls.login_attempts_per_account)),
            login_attempts_per_address=int(get("LOGIN_ATTEMPTS_PER_ADDRESS", cls.login_attempts_per_address)),
            agora_services=_names(get("AGORA_SERVICES", "")),
            db_prepared_statements=_on_unless_off(get("DB_PREPARED_STATEMENTS", "1")),
            analytics_rebuild_check_seconds=float(get("ANALYTICS_REBUILD_CHECK_SECONDS",
                                                      cls.analytics_rebuild_check_seconds)),
            flag_threshold=_flag_threshold(get("FLAG_THRESHOLD", cls.flag_threshold)),
            webhook_timeout_seconds=float(get("WEBHOOK_TIMEOUT_SECONDS", cls.webhook_timeout_seconds)),
            webhook_retry_base_seconds=float(get("WEBHOOK_RETRY_BASE_SECONDS", cls.webhook_retry_base_seconds)),
            webhook_retry_max_seconds=float(get("WEBHOOK_RETRY_MAX_SECONDS", cls.webhook_retry_max_seconds)),
            webhook_max_attempts=int(get("WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts)),
            webhook_concurrency=int(get("WEBHOOK_CONCURRENCY", cls.webhook_concurrency)),
            webhook_per_subscription=int(get("WEBHOOK_PER_SUBSCRIPTION", cls.webhook_per_subscription)),
            mail_poll_seconds=float(get("MAIL_POLL_SECONDS", cls.mail_poll_seconds)),
            mail_max_attempts=int(get("MAIL_MAX_ATTEMPTS", cls.mail_max_attempts)),
            digest_hour_utc=int(get("DIGEST_HOUR_UTC", cls.digest_hour_utc)),
            digest_check_seconds=float(get("DIGEST_CHECK_SECONDS", cls.digest_check_seconds)),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.production and self.jwt_secret == DEV_JWT_SECRET:
            raise RuntimeError("JWT_SECRET must be set to a secret value when AGORA_ENV=production")
        if self.production and self.platform_admin_key == "dev-platform-key":
            raise RuntimeError("PLATFORM_ADMIN_KEY must be set when AGORA_ENV=production")


_settings: Settings | None = None


def settings() -> Settings:
    """The process-wide settings, read once."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings() -> None:
    global _settings
    _settings = None
