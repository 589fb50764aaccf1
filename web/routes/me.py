"""The citizen's own pages: sign-up (with the optional demographics and why they are asked), their page
(points, level, rank, badges, ideas, comments), their profile, notifications and e-mail preferences.
Log-in and log-out are in web/routes/auth.py."""
from __future__ import annotations

import asyncio
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, api, gateway
from web.i18n import _, lazy_gettext as _l
from web.pages import flash, load_city, redirect, render, safe_next, url
from web.routes.auth import login_url
from web.session import current_user, sign_in

GENDERS = [("female", _l("Female")), ("male", _l("Male")), ("other", _l("Other"))]
BADGES = {
    "ideas_posted": _l("Ideas posted"),
    "upvotes_received": _l("Up votes received"),
    "comments_upvoted": _l("Valued comments"),
    "ideas_accepted": _l("Ideas accepted by the city"),
    "streak_days": _l("Days in a row taking part"),
}
EMAIL_CHOICES = [("instant", _l("Right away, one e-mail per notification")),
                 ("daily", _l("Once a day, a digest")),
                 ("off", _l("Never"))]
DEMOGRAPHICS = ("birth_year", "gender", "district")
LISTED = 10  # ideas and comments shown on the citizen's page


def demographics_of(form, errors: dict) -> dict:
    """birth_year, gender and district from a form: empty means not given (None)."""
    out: dict = {}
    raw_year = str(form.get("birth_year") or "").strip()
    if raw_year:
        if not raw_year.isdigit():
            errors["birth_year"] = _("Give the year as four digits, for example 1984.")
        elif not 1900 <= int(raw_year) <= date.today().year:
            # said here, in the citizen's language, with both bounds: the API's own wording is neither
            errors["birth_year"] = _("Give a year between 1900 and %(year)s.", year=date.today().year)
        else:
            out["birth_year"] = int(raw_year)
    else:
        out["birth_year"] = None
    gender = str(form.get("gender") or "").strip()
    out["gender"] = gender or None
    district = str(form.get("district") or "").strip()
    out["district"] = district or None
    return out


def _required(request: Request, city: dict) -> Response | None:
    if current_user(request) is None:
        return redirect(login_url(request, city["slug"], request.url.path))
    return None


# -- sign-up ---------------------------------------------------------------------------------------
async def signup_form(request: Request) -> Response:
    city = await load_city(request)
    next_path = safe_next(request, request.query_params.get("next"), url(request, "home", city=city["slug"]))
    if current_user(request):
        return redirect(next_path)
    return render(request, "me/signup.html", {"values": {}, "errors": {}, "next": next_path,
                                              "genders": GENDERS})


async def signup(request: Request) -> Response:
    city = await load_city(request)
    slug = city["slug"]
    form = await request.form()
    next_path = safe_next(request, form.get("next"), url(request, "home", city=slug))
    errors: dict[str, str] = {}
    values = {k: str(form.get(k) or "").strip() for k in ("email", "display_name", *DEMOGRAPHICS)}
    body = {"email": values["email"], "password": str(form.get("password") or ""),
            "display_name": values["display_name"], "locale": request.state.locale,
            **{k: v for k, v in demographics_of(form, errors).items() if v is not None}}
    message = None
    status = 422
    if not errors:
        try:
            user = await gateway(request).request("POST", f"/cities/{slug}/users", json=body)
            token = await gateway(request).request("POST", f"/cities/{slug}/auth/token",
                                                   json={"email": body["email"], "password": body["password"]})
        except ApiError as exc:
            if exc.status == 422:
                errors = exc.field_errors()
            elif exc.status == 409:
                errors = {"email": exc.message}
                status = 409
            elif exc.status == 429:
                message, status = _("Too many attempts. Please wait %(seconds)s seconds and try again.",
                                    seconds=exc.retry_after or 60), 429
            else:
                raise
        else:
            sign_in(request, slug, token["access_token"], token.get("expires_in", 3600), user)
            flash(request, _("Welcome, %(name)s: your account is ready.", name=user.get("display_name") or ""),
                  "success")
            return redirect(next_path)
    return render(request, "me/signup.html", {
        "values": values, "errors": errors, "next": next_path, "genders": GENDERS,
        "message": message or _("Please correct the fields below.")}, status=status)


# -- the citizen's page ----------------------------------------------------------------------------
async def _listed(call) -> dict | None:
    """A list the API may not offer (yet): None when the route is unknown."""
    try:
        return await call
    except ApiError as exc:
        if exc.status in (404, 405):
            return None
        raise


def next_level(level: int, points: int, levels: list[dict]) -> dict | None:
    """The next level above `level` and the points still needed, from the city's rules."""
    for step in levels:
        if step["level"] > level:
            return {"level": step["level"], "needed": max(0, step["points"] - points)}
    return None


async def me_page(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    slug, user = city["slug"], current_user(request)
    client = api(request)
    base = f"/cities/{slug}"
    profile, score, rules, unread, ideas, comments = await asyncio.gather(
        client.get(base + "/users/me"), client.get(f"{base}/users/{user['id']}/score"),
        client.get(base + "/gamification/rules"), client.get(base + "/users/me/notifications/unread-count"),
        _listed(client.get(base + "/users/me/ideas", params={"limit": LISTED})),
        _listed(client.get(base + "/users/me/comments", params={"limit": LISTED})))
    return render(request, "me/page.html", {
        "profile": profile, "score": score, "badge_names": BADGES, "unread": unread.get("unread_count", 0),
        "next_level": next_level(score.get("level", 0), score.get("points", 0), rules.get("levels") or []),
        "badge_rules": {b["badge"]: b for b in rules.get("badges") or []},
        "ideas": ideas, "comments": comments, "genders": dict(GENDERS),
    })


# -- profile ---------------------------------------------------------------------------------------
async def profile_form(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    profile = await api(request).get(f"/cities/{city['slug']}/users/me")
    values = {k: "" if profile.get(k) is None else str(profile.get(k)) for k in ("display_name", *DEMOGRAPHICS)}
    return render(request, "me/profile.html", {"values": values, "errors": {}, "genders": GENDERS,
                                               "email": profile.get("email")})


async def profile_save(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    form = await request.form()
    errors: dict[str, str] = {}
    values = {k: str(form.get(k) or "").strip() for k in ("display_name", *DEMOGRAPHICS)}
    patch = {"display_name": values["display_name"], **demographics_of(form, errors)}
    if not errors:
        try:
            profile = await api(request).patch(f"/cities/{city['slug']}/users/me", json=patch)
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = exc.field_errors()
        else:
            request.session["auth"]["user"]["display_name"] = profile.get("display_name")
            request.session["auth"] = dict(request.session["auth"])
            flash(request, _("Your profile is saved."), "success")
            return redirect(url(request, "me", city=city["slug"]))
    return render(request, "me/profile.html", {"values": values, "errors": errors, "genders": GENDERS,
                                               "message": _("Please correct the fields below.")}, status=422)


# -- notifications ---------------------------------------------------------------------------------
async def notifications(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    unread_only = request.query_params.get("unread") == "1"
    inbox = await api(request).get(f"/cities/{city['slug']}/users/me/notifications", params={
        "unread": "true" if unread_only else None, "cursor": request.query_params.get("cursor"), "limit": 20})
    return render(request, "me/notifications.html", {"inbox": inbox, "unread_only": unread_only})


async def mark_read(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    form = await request.form()
    ids = [str(i) for i in form.getlist("id") if i]
    body = {"all": True} if form.get("all") == "1" or not ids else {"ids": ids}
    answer = await api(request).post(f"/cities/{city['slug']}/users/me/notifications/read", json=body)
    if body.get("all"):
        flash(request, _("Every notification is marked as read."), "success")
    elif answer.get("updated"):
        flash(request, _("Marked as read."), "success")
    back = url(request, "notifications", city=city["slug"],
               query={"unread": "1" if form.get("unread") == "1" else None})
    return redirect(back)


# -- e-mail preferences ----------------------------------------------------------------------------
async def preferences_form(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    prefs = await api(request).get(f"/cities/{city['slug']}/users/me/notification-preferences")
    return render(request, "me/preferences.html", {"prefs": prefs, "choices": EMAIL_CHOICES})


async def preferences_save(request: Request) -> Response:
    city = await load_city(request)
    if (gone := _required(request, city)) is not None:
        return gone
    form = await request.form()
    body = {"email": str(form.get("email") or ""), "in_app": form.get("in_app") == "on"}
    try:
        await api(request).put(f"/cities/{city['slug']}/users/me/notification-preferences", json=body)
    except ApiError as exc:
        if exc.status != 422:
            raise
        return render(request, "me/preferences.html", {"prefs": body, "choices": EMAIL_CHOICES,
                                                       "errors": exc.field_errors(), "message": exc.message},
                      status=422)
    flash(request, _("Your notification preferences are saved."), "success")
    return redirect(url(request, "preferences", city=city["slug"]))


routes = [
    Route("/{city}/signup", signup_form, methods=["GET"], name="signup"),
    Route("/{city}/signup", signup, methods=["POST"]),
    Route("/{city}/me", me_page, methods=["GET"], name="me"),
    Route("/{city}/me/profile", profile_form, methods=["GET"], name="profile"),
    Route("/{city}/me/profile", profile_save, methods=["POST"]),
    Route("/{city}/me/notifications", notifications, methods=["GET"], name="notifications"),
    Route("/{city}/me/notifications/read", mark_read, methods=["POST"], name="notifications_read"),
    Route("/{city}/me/preferences", preferences_form, methods=["GET"], name="preferences"),
    Route("/{city}/me/preferences", preferences_save, methods=["POST"]),
]
