"""Configuration read from the environment, one place for every variable the platform reads."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEV_JWT_SECRET = "agora-development-secret-change-me"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
    # -- trust at the edge: shared rate limits, proxies, role checks --
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "agora"
    trusted_proxies: str = ""  # a count of proxy hops ("1") or their addresses and networks ("10.0.0.0/8,::1")
    signups_per_address: int = 30  # an hour
    principal_cache_seconds: float = 5.0
    extra: dict = field(default_factory=dict)

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
            redis_url=get("REDIS_URL", cls.redis_url),
            redis_prefix=get("REDIS_PREFIX", cls.redis_prefix),
            # TRUST_FORWARDED_FOR=1, the older switch, is one proxy in front
            trusted_proxies=get("TRUSTED_PROXIES", "1" if _bool(get("TRUST_FORWARDED_FOR", "0")) else ""),
            signups_per_address=int(get("SIGNUPS_PER_ADDRESS", cls.signups_per_address)),
            principal_cache_seconds=float(get("PRINCIPAL_CACHE_SECONDS", cls.principal_cache_seconds)),
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
