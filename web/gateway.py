"""The one client of the gateway's HTTP API: a pooled async httpx client whose errors are ApiError.

Pages use it through `api(request)`, which adds the signed-in citizen's token:

    city, projects = await asyncio.gather(api(request).get(f"/cities/{slug}"),
                                          api(request).get(f"/cities/{slug}/projects"))
"""
from __future__ import annotations

import time
from typing import Any

import httpx
from starlette.requests import Request

from web.settings import Settings


class ApiError(Exception):
    """An answer of the API that is not a success, or no answer at all (status 503)."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None,
                 retry_after: int | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.retry_after = retry_after

    def field_errors(self) -> dict[str, str]:
        """A 422's details as {field: issue}; nested fields keep their dotted name (`location.lat`)."""
        errors: dict[str, str] = {}
        for detail in self.details:
            if isinstance(detail, dict):
                field = str(detail.get("field") or "")
                field = field.removeprefix("body.") if field != "body" else field
                errors.setdefault(field, str(detail.get("issue") or detail.get("message") or ""))
        return errors

    @classmethod
    def from_response(cls, response: httpx.Response) -> "ApiError":
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        retry = response.headers.get("Retry-After")
        return cls(response.status_code, error.get("code") or f"HTTP_{response.status_code}",
                   error.get("message") or response.reason_phrase, error.get("details") or [],
                   int(retry) if retry and retry.isdigit() else None)


class Gateway:
    """`{gateway_url}/api/v1` over one connection pool. Answers are decoded JSON (None for 204)."""

    CITY_TTL = 30.0  # seconds a city (name, locales, branding) is kept; every page needs it

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.client = httpx.AsyncClient(
            base_url=settings.gateway_url + "/api/v1",
            timeout=httpx.Timeout(settings.api_timeout, connect=min(3.0, settings.api_timeout)),
            limits=httpx.Limits(max_connections=settings.api_connections,
                                max_keepalive_connections=settings.api_connections),
            headers={"Accept": "application/json", "User-Agent": "agora-web"},
            transport=transport,
        )
        self._cities: dict[str, tuple[float, dict]] = {}

    async def request(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                      params: dict | None = None, content: bytes | str | None = None,
                      headers: dict | None = None, raw: bool = False) -> Any:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if params:
            params = {k: v for k, v in params.items() if v not in (None, "", [])}
        try:
            response = await self.client.request(method, path, json=json, params=params, content=content,
                                                 headers=headers)
        except httpx.TimeoutException as exc:
            raise ApiError(503, "SERVICE_UNAVAILABLE", f"the platform did not answer in time ({exc.__class__.__name__})")
        except httpx.TransportError as exc:
            raise ApiError(503, "SERVICE_UNAVAILABLE", f"the platform cannot be reached ({exc.__class__.__name__})")
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if raw:
            return response
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def city(self, slug: str) -> dict:
        """The city, cached briefly: it is on every page and changes rarely."""
        now = time.monotonic()
        cached = self._cities.get(slug)
        if cached and now - cached[0] < self.CITY_TTL:
            return cached[1]
        city = await self.request("GET", f"/cities/{slug}")
        self._cities[slug] = (now, city)
        return city

    def forget_city(self, slug: str) -> None:
        self._cities.pop(slug, None)

    async def aclose(self) -> None:
        await self.client.aclose()


class BoundClient:
    """The gateway with the current citizen's token (if any) added to every call."""

    def __init__(self, gateway: Gateway, token: str | None):
        self.gateway = gateway
        self.token = token

    async def request(self, method: str, path: str, **kw) -> Any:
        kw.setdefault("token", self.token)
        return await self.gateway.request(method, path, **kw)

    async def get(self, path: str, **kw) -> Any:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw) -> Any:
        return await self.request("POST", path, **kw)

    async def put(self, path: str, **kw) -> Any:
        return await self.request("PUT", path, **kw)

    async def patch(self, path: str, **kw) -> Any:
        return await self.request("PATCH", path, **kw)

    async def delete(self, path: str, **kw) -> Any:
        return await self.request("DELETE", path, **kw)


def gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def api(request: Request, anonymous: bool = False) -> BoundClient:
    """The API as the citizen signed in on this request's city sees it (anonymous when nobody is)."""
    from web.session import access_token

    return BoundClient(gateway(request), None if anonymous else access_token(request))
