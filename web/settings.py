"""The web site's settings, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WEB_ROOT = Path(__file__).resolve().parent
DEV_SECRET = "dev-web-secret-change-me"


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    gateway_url: str        # the gateway's base address; the site calls {gateway_url}/api/v1 and nothing else
    host: str
    port: int
    secret_key: str         # signs the session cookie
    secure_cookies: bool    # Secure cookies even when the request itself arrived over plain HTTP (TLS proxy)
    default_city: str       # `/` redirects there when set; otherwise it lists the cities it knows
    cities: tuple[str, ...]  # the cities `/` lists (the API has no public list of cities)
    tile_url: str           # map tiles, e.g. https://tile.example.org/{z}/{x}/{y}.png; empty: maps without tiles
    api_timeout: float      # seconds for one API call
    api_connections: int    # the client pool's size
    node_modules: Path      # the front-end libraries installed by `npm ci` in web/
    production: bool


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    production = os.environ.get("AGORA_ENV", "development") == "production"
    secret = os.environ.get("WEB_SECRET_KEY", DEV_SECRET)
    if production and secret == DEV_SECRET:
        raise RuntimeError("WEB_SECRET_KEY must be set in production")
    default_city = os.environ.get("WEB_DEFAULT_CITY", "").strip()
    cities = tuple(c.strip() for c in os.environ.get("WEB_CITIES", default_city).split(",") if c.strip())
    return Settings(
        gateway_url=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8000").rstrip("/"),
        host=os.environ.get("WEB_HOST", "127.0.0.1"),
        port=int(os.environ.get("WEB_PORT", "8080")),
        secret_key=secret,
        secure_cookies=_flag("WEB_SECURE_COOKIES"),
        default_city=default_city,
        cities=cities,
        tile_url=os.environ.get("WEB_TILE_URL", "").strip(),
        api_timeout=float(os.environ.get("WEB_API_TIMEOUT", "10")),
        api_connections=int(os.environ.get("WEB_API_CONNECTIONS", "50")),
        node_modules=Path(os.environ.get("WEB_NODE_MODULES", WEB_ROOT / "node_modules")),
        production=production,
    )
