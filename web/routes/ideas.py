"""An idea: its page with the official feedback and threaded comments; posting (with similar ideas
while typing and a map for the location), editing, deleting, flagging; votes on ideas and comments."""
from __future__ import annotations

import asyncio

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import votes
from web.gateway import ApiError, api
from web.i18n import _, get_locale
from web.pages import LABELS, flash, is_htmx, load_city, redirect, render, safe_next, url
from web.routes.auth import require_login
from web.session import current_user

COMMENTS_PAGE = 100
SIMILAR = 5


# -- reading ---------------------------------------------------------------------------------------
def comment_tree(comments: list[dict]) -> list[dict]:
    """Flat comments (oldest first, with parent_id) as a tree: each gets `replies`."""
    by_id = {c["id"]: {**c, "replies": []} for c in comments}
    roots = []
    for c in by_id.values():
        parent = by_id.get(c["parent_id"]) if c.get("parent_id") else None
        (parent["replies"] if parent else roots).append(c)
    return roots


def may_edit(user: dict | None, author: dict | None) -> bool:
    if not user:
        return False
    return user.get("role") in ("moderator", "admin") or (author or {}).get("id") == user.get("id")


async def idea_context(request: Request, city: dict, idea_id: str, cursor: str | None = None) -> dict:
    slug = city["slug"]
    client = api(request)
    idea, comments, mine = await asyncio.gather(
        client.get(f"/cities/{slug}/ideas/{idea_id}"),
        client.get(f"/cities/{slug}/ideas/{idea_id}/comments", params={"limit": COMMENTS_PAGE, "cursor": cursor}),
        votes.own_votes(client, slug, "idea", [idea_id]),
    )
    project, comment_votes = await asyncio.gather(
        client.get(f"/cities/{slug}/projects/{idea['project_id']}"),
        votes.own_votes(client, slug, "comment", [c["id"] for c in comments["items"] if not c.get("deleted")]),
    )
    user = current_user(request)
    return {
        "idea": idea,
        "project": project,
        "mine": mine.get(idea_id),
        "comments": comment_tree(comments["items"]),
        "comments_next": url(request, "idea", city=slug, idea=idea_id, query={"cursor": comments["next_cursor"]})
        if comments.get("next_cursor") else None,
        "comment_votes": comment_votes,
        "can_edit": may_edit(user, idea.get("author")),
        "is_author": bool(user and (idea.get("author") or {}).get("id") == user.get("id")),
        "reasons": list(LABELS["flag_reason"].items()),
        "open": project.get("status") == "active",
        "comment_errors": {},
        "comment_values": {},
    }


async def idea_page(request: Request) -> Response:
    city = await load_city(request)
    context = await idea_context(request, city, request.path_params["idea"], request.query_params.get("cursor"))
    return render(request, "ideas/page.html", context)


# -- posting and editing ---------------------------------------------------------------------------
def idea_payload(form: FormData, project: dict) -> tuple[dict, dict]:
    """The API body from the form, and the form's own errors (a location that is not a number)."""
    body: dict = {"title": str(form.get("title", "")).strip(), "body": str(form.get("body", "")).strip(),
                  "topics": [t for t in form.getlist("topics") if t in (project.get("topics") or [])]}
    errors = {}
    lat, lng = str(form.get("lat", "")).strip(), str(form.get("lng", "")).strip()
    if lat or lng:
        try:
            body["location"] = {"lat": float(lat.replace(",", ".")), "lng": float(lng.replace(",", "."))}
        except ValueError:
            errors["location"] = _("Give both the latitude and the longitude as numbers, or leave both empty.")
    return body, errors


def form_values(form: FormData | None, idea: dict | None = None) -> dict:
    if form is not None:
        return {"title": form.get("title", ""), "body": form.get("body", ""), "topics": form.getlist("topics"),
                "lat": form.get("lat", ""), "lng": form.get("lng", "")}
    idea = idea or {}
    location = idea.get("location") or {}
    return {"title": idea.get("title", ""), "body": idea.get("body", ""), "topics": idea.get("topics", []),
            "lat": location.get("lat", ""), "lng": location.get("lng", "")}


def with_location_errors(errors: dict) -> dict:
    """The API names `location.lat`; the form shows one message under the location fields."""
    for key in list(errors):
        if key.startswith("location.") and "location" not in errors:
            errors["location"] = errors[key]
    return errors


async def similar_ideas(request: Request, slug: str, project_id: str, title: str, body: str) -> list[dict]:
    if len(title.strip()) < 3:
        return []
    try:
        answer = await api(request).post(f"/cities/{slug}/projects/{project_id}/similar",
                                         json={"title": title[:300], "body": body[:2000]},
                                         params={"limit": SIMILAR, "min_score": 0.15})
    except ApiError as exc:
        if exc.status in (401, 403):
            raise
        return []  # a draft's neighbours are a help, not a must: no box when analytics is busy
    return answer.get("items") or []


async def new_idea(request: Request) -> Response:
    city = await load_city(request)
    slug, project_id = city["slug"], request.path_params["project"]
    if not current_user(request):
        return require_login(request, slug, next_path=request.url.path)
    project = await api(request).get(f"/cities/{slug}/projects/{project_id}")
    form = await request.form() if request.method == "POST" else None
    values = form_values(form)
    context = {"project": project, "values": values, "errors": {}, "message": None, "similar": [],
               "action": url(request, "idea_new", city=slug, project=project_id), "editing": False}
    if form is None:
        return render(request, "ideas/form.html", context)
    if form.get("action") == "similar":  # without JavaScript: look for similar ideas, keep the draft
        context["similar"] = await similar_ideas(request, slug, project_id, values["title"], values["body"])
        context["similar_checked"] = True
        return render(request, "ideas/form.html", context)
    payload, errors = idea_payload(form, project)
    if errors:
        return render(request, "ideas/form.html", {**context, "errors": errors,
                                                   "message": _("Please correct the fields below.")}, status=422)
    if get_locale() in (city.get("locales") or []):
        payload["locale"] = get_locale()
    try:
        idea = await api(request).post(f"/cities/{slug}/projects/{project_id}/ideas", json=payload)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = with_location_errors(exc.field_errors()) if exc.status == 422 else {}
        message = _("Please correct the fields below.") if exc.status == 422 else exc.message
        return render(request, "ideas/form.html", {**context, "errors": errors, "message": message},
                      status=exc.status)
    flash(request, _("Your idea is posted. Thank you!"), "success")
    return redirect(url(request, "idea", city=slug, idea=idea["id"]), request)


async def similar(request: Request) -> Response:
    """The similar-ideas box of the posting form (htmx, while the title is typed)."""
    city = await load_city(request)
    form = await request.form()
    found = await similar_ideas(request, city["slug"], request.path_params["project"],
                                str(form.get("title", "")), str(form.get("body", "")))
    return render(request, "ideas/_similar.html", {"similar": found, "similar_checked": bool(found)})


async def edit_idea(request: Request) -> Response:
    city = await load_city(request)
    slug, idea_id = city["slug"], request.path_params["idea"]
    if not current_user(request):
        return require_login(request, slug, next_path=request.url.path)
    client = api(request)
    idea = await client.get(f"/cities/{slug}/ideas/{idea_id}")
    if not may_edit(current_user(request), idea.get("author")):
        raise ApiError(403, "FORBIDDEN", "only the author or a moderator may edit an idea")
    project = await client.get(f"/cities/{slug}/projects/{idea['project_id']}")
    form = await request.form() if request.method == "POST" else None
    context = {"project": project, "idea": idea, "values": form_values(form, idea), "errors": {}, "message": None,
               "similar": [], "action": url(request, "idea_edit", city=slug, idea=idea_id), "editing": True}
    if form is None:
        return render(request, "ideas/form.html", context)
    payload, errors = idea_payload(form, project)
    if errors:
        return render(request, "ideas/form.html", {**context, "errors": errors,
                                                   "message": _("Please correct the fields below.")}, status=422)
    if "location" not in payload and idea.get("location"):
        payload["location"] = None
    try:
        await client.patch(f"/cities/{slug}/ideas/{idea_id}", json=payload)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = with_location_errors(exc.field_errors()) if exc.status == 422 else {}
        message = _("Please correct the fields below.") if exc.status == 422 else exc.message
        return render(request, "ideas/form.html", {**context, "errors": errors, "message": message},
                      status=exc.status)
    flash(request, _("Your changes are saved."), "success")
    return redirect(url(request, "idea", city=slug, idea=idea_id), request)


async def delete_idea(request: Request) -> Response:
    city = await load_city(request)
    slug, idea_id = city["slug"], request.path_params["idea"]
    if not current_user(request):
        return require_login(request, slug, next_path=url(request, "idea", city=slug, idea=idea_id))
    client = api(request)
    idea = await client.get(f"/cities/{slug}/ideas/{idea_id}")
    await client.delete(f"/cities/{slug}/ideas/{idea_id}")
    flash(request, _("The idea is deleted."), "success")
    return redirect(url(request, "project", city=slug, project=idea["project_id"]), request)


async def flag(request: Request, kind: str) -> Response:
    """Report an idea or a comment to the moderators."""
    city = await load_city(request)
    slug, target = city["slug"], request.path_params["id"]
    form = await request.form()
    back = safe_next(request, form.get("next"), url(request, "home", city=slug))
    if not current_user(request):
        return require_login(request, slug, next_path=back)
    try:
        await api(request).post(f"/cities/{slug}/{kind}s/{target}/flags", json={"reason": form.get("reason")})
        flash(request, _("Thank you: the moderators will have a look."), "success")
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        flash(request, exc.message if exc.status == 409 else _("Choose a reason for the report."), "error")
    return redirect(back, request)


# -- comments --------------------------------------------------------------------------------------
async def add_comment(request: Request) -> Response:
    city = await load_city(request)
    slug, idea_id = city["slug"], request.path_params["idea"]
    idea_url = url(request, "idea", city=slug, idea=idea_id)
    if not current_user(request):
        return require_login(request, slug, next_path=idea_url + "#comments")
    form = await request.form()
    body = {"body": str(form.get("body", "")).strip()}
    if form.get("parent_id"):
        body["parent_id"] = str(form.get("parent_id"))
    try:
        comment = await api(request).post(f"/cities/{slug}/ideas/{idea_id}/comments", json=body)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = exc.field_errors() if exc.status == 422 else {"body": exc.message}
        if not errors:
            errors = {"body": exc.message}
        context = await idea_context(request, city, idea_id)
        context.update(comment_errors={body.get("parent_id") or "new": errors.get("body") or exc.message},
                       comment_values={body.get("parent_id") or "new": body["body"]})
        template = "ideas/_comments.html" if is_htmx(request) else "ideas/page.html"
        return render(request, template, context, status=200 if is_htmx(request) else exc.status)
    if is_htmx(request):
        context = await idea_context(request, city, idea_id)
        context["comment_done"] = comment["id"]
        return render(request, "ideas/_comments.html", context)
    flash(request, _("Your comment is posted."), "success")
    return redirect(f"{idea_url}#comment-{comment['id']}", request)


async def delete_comment(request: Request) -> Response:
    city = await load_city(request)
    slug, comment_id = city["slug"], request.path_params["id"]
    form = await request.form()
    back = safe_next(request, form.get("next"), url(request, "home", city=slug))
    if not current_user(request):
        return require_login(request, slug, next_path=back)
    await api(request).delete(f"/cities/{slug}/comments/{comment_id}")
    flash(request, _("The comment is deleted."), "success")
    return redirect(back, request)


# -- votes -----------------------------------------------------------------------------------------
async def vote(request: Request, kind: str) -> Response:
    """One click: vote for or against (the same button again withdraws). htmx swaps the buttons;
    without JavaScript the form posts and the citizen comes back to the same place."""
    city = await load_city(request)
    slug, target_id = city["slug"], request.path_params["id"]
    form = await request.form()
    value, current = str(form.get("value", "")), str(form.get("current", "")) or None
    default_back = url(request, "idea", city=slug, idea=target_id) if kind == "idea" else url(request, "home", city=slug)
    back = safe_next(request, form.get("next"), default_back)
    if not current_user(request):
        if value not in votes.VALUES:
            return require_login(request, slug, next_path=back)
        after = url(request, "idea", city=slug, idea=target_id) if kind == "idea" else back
        return require_login(request, slug, next_path=after,
                             pending={"method": "PUT", "path": f"/cities/{slug}/{kind}s/{target_id}/vote",
                                      "json": {"value": value}, "done": _("Your vote is counted.")})
    error = None
    try:
        answer = await votes.cast(api(request), slug, kind, target_id, value, current)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        error = exc.message
        answer = await api(request).get(f"/cities/{slug}/{kind}s/{target_id}/vote")
    if not is_htmx(request):
        if error:
            flash(request, error, "error")
        return redirect(back, request)
    return render(request, "ideas/_vote.html", {
        "kind": kind, "target": {"id": target_id, **answer}, "mine": answer.get("value"),
        "allow_down": form.get("allow_down", "1") != "0", "next": back, "vote_error": error,
        "vote_done": None if error else (_("Your vote is counted.") if answer.get("value") else _("Your vote is withdrawn.")),
    })


async def vote_idea(request: Request) -> Response:
    return await vote(request, "idea")


async def vote_comment(request: Request) -> Response:
    return await vote(request, "comment")


async def flag_idea(request: Request) -> Response:
    return await flag(request, "idea")


async def flag_comment(request: Request) -> Response:
    return await flag(request, "comment")


routes = [
    Route("/{city}/ideas/{idea}", idea_page, name="idea"),
    Route("/{city}/projects/{project}/ideas/new", new_idea, methods=["GET", "POST"], name="idea_new"),
    Route("/{city}/projects/{project}/similar", similar, methods=["POST"], name="idea_similar"),
    Route("/{city}/ideas/{idea}/edit", edit_idea, methods=["GET", "POST"], name="idea_edit"),
    Route("/{city}/ideas/{idea}/delete", delete_idea, methods=["POST"], name="idea_delete"),
    Route("/{city}/ideas/{idea}/comments", add_comment, methods=["POST"], name="comment_add"),
    Route("/{city}/comments/{id}/delete", delete_comment, methods=["POST"], name="comment_delete"),
    Route("/{city}/ideas/{id}/vote", vote_idea, methods=["POST"], name="vote_idea"),
    Route("/{city}/comments/{id}/vote", vote_comment, methods=["POST"], name="vote_comment"),
    Route("/{city}/ideas/{id}/flag", flag_idea, methods=["POST"], name="flag_idea"),
    Route("/{city}/comments/{id}/flag", flag_comment, methods=["POST"], name="flag_comment"),
]
