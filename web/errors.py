"""Error pages: what a citizen sees when the API (or the site) says no. Never a stack trace."""
from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from web.gateway import ApiError
from web.pages import is_htmx, redirect, render
from web.session import sign_out

log = logging.getLogger("web")

PAGES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html", 409: "errors/400.html",
         422: "errors/400.html", 429: "errors/429.html", 503: "errors/503.html"}


def error_page(request: Request, status: int, message: str | None = None, retry_after: int | None = None) -> Response:
    template = PAGES.get(status, "errors/500.html" if status >= 500 else "errors/400.html")
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if status >= 500 and status != 503:
        status = 500
    response = render(request, template, {"status": status, "message": message, "retry_after": retry_after},
                      status=status, headers=headers)
    if is_htmx(request):
        # an htmx swap would put the error page inside the card: show it as the whole page instead
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


async def api_error(request: Request, exc: ApiError) -> Response:
    if exc.status == 401:
        # the token expired or was revoked: sign in again and come back here
        sign_out(request)
        city = request.path_params.get("city")
        if city and request.method == "GET":
            return redirect(f"/{city}/login?next={quote(request.url.path)}", request)
        if city:
            return redirect(f"/{city}/login", request)
    if exc.status >= 500:
        log.warning("api %s %s: %s", request.method, request.url.path, exc)
    message = exc.message if exc.status in (400, 409, 422) else None
    return error_page(request, 503 if exc.status >= 500 else exc.status, message, exc.retry_after)


async def http_error(request: Request, exc: HTTPException) -> Response:
    return error_page(request, exc.status_code, None)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_page(request, 500)
    except Exception:  # the error page itself failed: plain words, still no trace
        return Response("The site had a problem. Please try again.", status_code=500, media_type="text/plain")


async def csrf_refused(request: Request) -> Response:
    return error_page(request, 403, "csrf")
