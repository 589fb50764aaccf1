"""`python -m web` serves the site on WEB_HOST:WEB_PORT (default 127.0.0.1:8080)."""
import uvicorn

from web.settings import get_settings


def main() -> None:
    settings = get_settings()
    print(f"Agora web site on http://{settings.host}:{settings.port}/ (gateway {settings.gateway_url})", flush=True)
    uvicorn.run("web.app:app", host=settings.host, port=settings.port, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", access_log=False, log_level="info")


if __name__ == "__main__":
    main()
