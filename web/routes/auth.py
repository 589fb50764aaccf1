"""Log-in and log-out. An action an anonymous citizen started (a vote) is carried out right after
they sign in, and they come back to where they were: two clicks from a vote."""
from __future__ import annotations


from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, gateway
from web.i18n import _
from web.pages import flash, load_city, redirect, render, safe_next, url
from web.session import current_user, remember_pending, sign_in, sign_out, take_pending


def login_url(request: Request, city: str, next_path: str | None = None) -> str:
    return url(request, "login", city=city, query={"next": next_path or request.url.path})


def require_login(request: Request, city: str, pending: dict | None = None, next_path: str | None = None) -> Response:
    """Send an anonymous citizen to log in; `pending` ({method, path, json}: an API call) is made for them
    once they have, then they land on `next_path`."""
    if pending:
        remember_pending(request, {**pending, "next": next_path})
    return redirect(login_url(request, city, next_path), request)


async def login_form(request: Request) -> Response:
    city = await load_city(request)
    home = url(request, "home", city=city["slug"])
    next_path = safe_next(request, request.query_params.get("next"), home)
    if current_user(request):
        return redirect(next_path)
    return render(request, "auth/login.html", {"next": next_path, "errors": {}, "values": {},
                                               "pending": request.session.get("pending")})


async def login(request: Request) -> Response:
    city = await load_city(request)
    slug = city["slug"]
    form = await request.form()
    values = {"email": str(form.get("email", "")).strip()}
    next_path = safe_next(request, form.get("next"), url(request, "home", city=slug))
    errors: dict[str, str] = {}
    message = None
    status = 400
    try:
        token = await gateway(request).request(
            "POST", f"/cities/{slug}/auth/token", json={"email": values["email"], "password": form.get("password", "")})
        me = await gateway(request).request("GET", f"/cities/{slug}/users/me", token=token["access_token"])
    except ApiError as exc:
        status = exc.status if exc.status in (401, 422, 429, 503) else 400
        if exc.status == 422:
            errors = exc.field_errors()
            message = _("Please correct the fields below.")
        elif exc.status == 429:
            message = _("Too many attempts. Please wait %(seconds)s seconds and try again.",
                        seconds=exc.retry_after or 60)
        elif exc.status >= 500:
            raise
        else:
            message = _("The e-mail address or the password is not right.")
        return render(request, "auth/login.html", {"next": next_path, "errors": errors, "values": values,
                                                   "message": message}, status=status)
    sign_in(request, slug, token["access_token"], token.get("expires_in", 3600), me)
    pending = take_pending(request)
    if pending:
        next_path = await _carry_out(request, slug, pending, token["access_token"]) or next_path
    flash(request, _("Welcome, %(name)s.", name=me.get("display_name") or ""), "success")
    return redirect(next_path)


async def _carry_out(request: Request, slug: str, pending: dict, token: str) -> str | None:
    """Make the API call the citizen asked for before signing in; say so if it was refused."""
    path = pending.get("path") or ""
    if not path.startswith(f"/cities/{slug}/"):
        return None
    try:
        await gateway(request).request(pending.get("method", "POST"), path, json=pending.get("json"), token=token)
        if pending.get("done"):
            flash(request, pending["done"], "success")
    except ApiError as exc:
        if exc.status >= 500:
            flash(request, _("The platform is busy; your action was not saved. Please try again."), "error")
        else:
            flash(request, exc.message, "error")
    return safe_next(request, pending.get("next"), "") or None


async def logout(request: Request) -> Response:
    city = await load_city(request)
    sign_out(request)
    flash(request, _("You are signed out."), "info")
    return redirect(url(request, "home", city=city["slug"]))


routes = [
    Route("/{city}/login", login_form, methods=["GET"], name="login"),
    Route("/{city}/login", login, methods=["POST"]),
    Route("/{city}/logout", logout, methods=["POST"], name="logout"),
]

