"""The ideas service's use cases: projects, ideas, comments, flags and moderation, and the facts kept of
accounts' users. Plain functions called with their dependencies: `tx` (or `db` when a use case spans
transactions), `peers`, settings values; the SQL is in store.py, the rules in workflow/moderation/texts."""
from __future__ import annotations

import uuid

from services.common import auth, logs, pagination
from services.common.errors import AgoraError, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed, validate
from services.ideas import listing, moderation, schemas, store, texts, views, vote_counts, workflow
from services.ideas.models import TARGETS, projects


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _id_or_404(value, what: str) -> uuid.UUID:
    parsed = _uuid(value)
    if parsed is None:
        raise NotFound(f"No such {what}.")
    return parsed


def caller(principal, city_id, required: str | None = None):
    """The caller as a Principal (None when anonymous), checked against the city and a role."""
    me = auth.principal_of(principal)
    if me is None:
        if required is not None:
            raise Unauthorized("This needs a bearer token.")
        return None
    me.require_city(city_id)
    if required is not None and required != "citizen":
        me.require(required)
    return me


def _is_moderator(me) -> bool:
    return me is not None and me.at_least("moderator")


def _check_owner_or_moderator(me, author_id, what: str) -> None:
    if str(me.user_id) != str(author_id) and not me.at_least("moderator"):
        raise Forbidden(f"Only the author or a moderator may change this {what}.")


def _page(rows, limit, key_of, view, me) -> dict:
    result = pagination.page(rows, limit, key_of)
    return {**result, "items": [view(r, _is_moderator(me)) for r in result["items"]]}


# -- projects --------------------------------------------------------------------------------------
def create_project(tx, principal, city_id: str, locales: list[str], data) -> dict:
    me = caller(principal, city_id, "admin")
    texts.check_locales(locales, title=data.title, description=data.description)
    row = store.insert_project(tx, city_id, me.user_id, data)
    tx.emit("ideas.project_created", city_id=city_id, actor_id=me.user_id, data=views.project_event(row))
    return views.project(row)


def update_project(tx, principal, city_id: str, locales: list[str], project_id, data) -> dict:
    me = caller(principal, city_id, "admin")
    patch = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None or k == "flag_threshold"}
    texts.check_locales(locales, title=patch.get("title"), description=patch.get("description"))
    row = store.update_project(tx, city_id, _id_or_404(project_id, "project"), patch)
    if row is None:
        raise NotFound("No such project in this city.")
    if patch:
        tx.emit("ideas.project_updated", city_id=city_id, actor_id=me.user_id, data=views.project_event(row))
    return views.project(row)


def get_project(session, principal, city_id: str, project_id) -> dict:
    return views.project(visible_project(session, city_id, project_id, caller(principal, city_id)))


def list_projects(session, principal, city_id: str, q) -> dict:
    me = caller(principal, city_id)
    after, key_of = listing.newest_first(projects, q.cursor)
    rows = store.list_projects(session, city_id, q, after, include_drafts=_is_moderator(me))
    return _page(rows, q.limit, key_of, lambda r, _: views.project(r), me)


def visible_project(session, city_id, project_id, me, lock: bool = False):
    """A project the caller may see (drafts only to moderators and admins), else NotFound."""
    row = store.project(session, city_id, _id_or_404(project_id, "project"), lock)
    if row is None or (row.status == "draft" and not _is_moderator(me)):
        raise NotFound("No such project in this city.")
    return row


# -- ideas -----------------------------------------------------------------------------------------
def create_idea(tx, principal, city_id: str, locales: list[str], project_id, data, author) -> dict:
    """`author`: the caller's row of the users read model (or None), for the locale of the post."""
    me = caller(principal, city_id, "citizen")
    locale = texts.post_locale(data.locale, author.locale if author else None, locales)
    project = visible_project(tx.session, city_id, project_id, me, lock=True)
    workflow.check_takes_ideas(project.method, project.status)
    texts.check_topics(data.topics, list(project.topics))
    row = store.insert_idea(
        tx, id=uuid.uuid4(), city_id=city_id, project_id=project.id, author_id=me.user_id, title=data.title,
        body=data.body, topics=data.topics, locale=locale, lat=data.location.lat if data.location else None,
        lng=data.location.lng if data.location else None, status=workflow.INITIAL,
    )
    tx.emit("ideas.idea_created", city_id=city_id, actor_id=me.user_id, data=views.idea_event(row))
    return views.idea(visible_idea(tx.session, city_id, row.id, me), _is_moderator(me))


def get_idea(session, principal, city_id: str, idea_id) -> dict:
    me = caller(principal, city_id)
    return views.idea(visible_idea(session, city_id, idea_id, me), _is_moderator(me))


def list_ideas(session, principal, city_id: str, project_id, q) -> dict:
    me = caller(principal, city_id)
    score, after, key_of = listing.idea_order(q.sort, q.cursor)
    project = visible_project(session, city_id, project_id, me)
    rows = store.list_ideas(session, city_id, project.id, q, score, after, _is_moderator(me))
    return _page(rows, q.limit, key_of, views.idea, me)


def update_idea(tx, principal, city_id: str, locales: list[str], idea_id, data) -> dict:
    me = caller(principal, city_id, "citizen")
    patch = data.model_dump(exclude_unset=True)
    if "locale" in patch:
        patch["locale"] = texts.post_locale(patch["locale"], None, locales) if patch["locale"] else None
    if "location" in patch:
        location = patch.pop("location")
        patch["lat"], patch["lng"] = (location["lat"], location["lng"]) if location else (None, None)
    row = visible_idea(tx.session, city_id, idea_id, me, lock=True)
    _check_owner_or_moderator(me, row.author_id, "idea")
    if "topics" in patch:
        texts.check_topics(patch["topics"], store.project_topics(tx.session, city_id, row.project_id))
    if patch:
        updated = store.update_idea(tx, city_id, row.id, patch)
        tx.emit("ideas.idea_updated", city_id=city_id, actor_id=me.user_id, data=views.idea_event(updated))
        row = visible_idea(tx.session, city_id, row.id, me)
    return views.idea(row, _is_moderator(me))


def delete_idea(tx, principal, city_id: str, idea_id) -> None:
    me = caller(principal, city_id, "citizen")
    row = visible_idea(tx.session, city_id, idea_id, me, lock=True)
    _check_owner_or_moderator(me, row.author_id, "idea")
    _delete(tx, "idea", row, me.user_id)


def change_status(tx, principal, city_id: str, locales: list[str], idea_id, data) -> dict:
    me = caller(principal, city_id, "admin")
    texts.check_locales(locales, feedback=data.feedback)
    row = visible_idea(tx.session, city_id, idea_id, me, lock=True)
    workflow.check_transition(row.status, data.status)
    store.set_status(tx, city_id, row.id, data.status, data.feedback)
    tx.emit("ideas.idea_status_changed", city_id=city_id, actor_id=me.user_id, data={
        "idea_id": row.id, "project_id": row.project_id, "author_id": row.author_id,
        "old_status": row.status, "status": data.status, "feedback": data.feedback,
    })
    return views.idea(visible_idea(tx.session, city_id, row.id, me), True)


def visible_idea(session, city_id, idea_id, me, lock: bool = False):
    """An idea the caller may see, with author, counts and flags; NotFound otherwise."""
    row = store.idea(session, city_id, _id_or_404(idea_id, "idea"), lock)
    if row is None or not moderation.visible(row, _is_moderator(me)):
        raise NotFound("No such idea in this city.")
    return row


def _delete(tx, target_type: str, row, deleted_by) -> None:
    store.soft_delete(tx, target_type, row.city_id, row.id, deleted_by)
    if target_type == "idea":
        tx.emit("ideas.idea_deleted", city_id=row.city_id, actor_id=deleted_by, data={
            "idea_id": row.id, "project_id": row.project_id, "author_id": row.author_id, "deleted_by": deleted_by,
        })
    else:
        tx.emit("ideas.comment_deleted", city_id=row.city_id, actor_id=deleted_by, data={
            "comment_id": row.id, "idea_id": row.idea_id, "project_id": row.project_id, "author_id": row.author_id,
        })


# -- comments --------------------------------------------------------------------------------------
def create_comment(tx, principal, city_id: str, idea_id, data) -> dict:
    me = caller(principal, city_id, "citizen")
    idea = visible_idea(tx.session, city_id, idea_id, me)
    parent = None
    if data.parent_id is not None:
        parent = store.comment_of_idea(tx.session, city_id, idea.id, data.parent_id)
        if parent is None or not moderation.visible(parent, _is_moderator(me)):
            raise ValidationFailed("The request is not valid.",
                                   [{"field": "parent_id", "issue": "no such comment on this idea"}])
        if parent.parent_id is not None:
            raise ValidationFailed("The request is not valid.", [
                {"field": "parent_id", "issue": "replies go one level deep: reply to the top comment"}])
    row = store.insert_comment(
        tx, id=uuid.uuid4(), city_id=city_id, idea_id=idea.id, project_id=idea.project_id, author_id=me.user_id,
        parent_id=parent.id if parent else None, body=data.body,
    )
    tx.emit("ideas.comment_created", city_id=city_id, actor_id=me.user_id, data={
        "comment_id": row.id, "idea_id": idea.id, "project_id": idea.project_id, "author_id": me.user_id,
        "idea_author_id": idea.author_id, "parent_id": row.parent_id,
        "parent_author_id": parent.author_id if parent else None, "body": row.body, "created_at": row.created_at,
    })
    return views.comment(visible_comment(tx.session, city_id, row.id, me), _is_moderator(me))


def list_comments(session, principal, city_id: str, idea_id, q) -> dict:
    me = caller(principal, city_id)
    after, key_of = listing.comment_order(q.cursor)
    idea = visible_idea(session, city_id, idea_id, me)
    rows = store.list_comments(session, city_id, idea.id, after, q.limit, _is_moderator(me))
    return _page(rows, q.limit, key_of, views.comment, me)


def list_own(session, principal, city_id: str, target_type: str, q) -> dict:
    """The caller's own ideas (across the city's projects) or comments (on ideas the caller may see),
    newest first; deleted ones are left out."""
    me = caller(principal, city_id, "citizen")
    after, key_of = listing.newest_first(TARGETS[target_type], q.cursor)
    own, view = (store.own_ideas, views.idea) if target_type == "idea" else (store.own_comments, views.comment)
    return _page(own(session, city_id, me.user_id, after, q.limit, _is_moderator(me)), q.limit, key_of, view, me)


def get_comment(session, principal, city_id: str, comment_id) -> dict:
    me = caller(principal, city_id)
    return views.comment(visible_comment(session, city_id, comment_id, me), _is_moderator(me))


def update_comment(tx, principal, city_id: str, comment_id, data) -> dict:
    me = caller(principal, city_id, "citizen")
    row = visible_comment(tx.session, city_id, comment_id, me, lock=True)
    _check_owner_or_moderator(me, row.author_id, "comment")
    store.update_comment_body(tx, city_id, row.id, data.body)
    return views.comment(visible_comment(tx.session, city_id, row.id, me), _is_moderator(me))


def delete_comment(tx, principal, city_id: str, comment_id) -> None:
    me = caller(principal, city_id, "citizen")
    row = visible_comment(tx.session, city_id, comment_id, me, lock=True)
    _check_owner_or_moderator(me, row.author_id, "comment")
    _delete(tx, "comment", row, me.user_id)


def visible_comment(session, city_id, comment_id, me, lock: bool = False):
    """A comment the caller may see, on an idea the caller may see; NotFound otherwise."""
    row = store.comment(session, city_id, _id_or_404(comment_id, "comment"), lock)
    if row is None or not moderation.visible(row, _is_moderator(me)):
        raise NotFound("No such comment in this city.")
    visible_idea(session, city_id, row.idea_id, me)
    return row


# -- flags and moderation --------------------------------------------------------------------------
def flag(tx, principal, city_id: str, target_type: str, target_id, data, default_threshold: int) -> dict:
    """Flag an idea or comment; the flag that reaches the threshold (the project's, else
    `default_threshold`, the platform's) hides it."""
    me = caller(principal, city_id, "citizen")
    if target_type not in TARGETS:
        raise NotFound(f"Nothing to flag of type {target_type!r}.")
    row = (visible_idea if target_type == "idea" else visible_comment)(tx.session, city_id, target_id, me, lock=True)
    moderation.check_can_flag(me.user_id, row.author_id)
    new = store.insert_flag(tx, city_id, target_type, row.id, me.user_id, data.reason)
    if new is None:
        raise Conflict(f"You have flagged this {target_type} already.")
    count = store.open_flags(tx.session, city_id, target_type, row.id)
    limit = moderation.threshold(store.project_flag_threshold(tx.session, city_id, row.project_id), default_threshold)
    if moderation.should_hide(count, limit, row.hidden_at is not None):
        store.set_hidden(tx, target_type, city_id, row.id, True)
        tx.emit("ideas.content_hidden", city_id=city_id, actor_id=me.user_id,
                data=_moderation_data(target_type, row, count))
    return {"id": str(new.id), "target_type": target_type, "target_id": str(row.id), "reason": new.reason,
            "created_at": new.created_at.isoformat()}


def _moderation_data(target_type, row, count) -> dict:
    return {
        "target_type": target_type, "target_id": row.id, "idea_id": row.id if target_type == "idea" else row.idea_id,
        "project_id": row.project_id, "author_id": row.author_id, "flags": count,
    }


def list_flags(session, principal, city_id: str, q) -> dict:
    """The moderation queue: content with open flags, oldest first flag first."""
    caller(principal, city_id, "moderator")
    rows = store.flag_queue(session, city_id, listing.time_id_key(q.cursor), q.limit)
    result = pagination.page(rows, q.limit, lambda r: [r.created_at.isoformat(), str(r.target_id)])
    items = []
    for r in result["items"]:
        content = store.flagged_content(session, city_id, r.target_type, r.target_id)
        items.append({
            "target_type": r.target_type, "target_id": str(r.target_id), "flags": r.flags,
            "reasons": moderation.reason_counts(r.reasons), "first_flagged_at": r.created_at.isoformat(),
            "last_flagged_at": r.last_flagged_at.isoformat(),
            "hidden": content is not None and content.hidden_at is not None,
            "deleted": content is None or content.deleted_at is not None,
            "content": None if content is None else (
                views.idea(content, True) if r.target_type == "idea" else views.comment(content, True)),
        })
    return {"items": items, "next_cursor": result["next_cursor"]}


def moderate(tx, principal, city_id: str, target_type: str, target_id, data) -> dict:
    me = caller(principal, city_id, "moderator")
    if target_type not in TARGETS:
        raise NotFound(f"Nothing to moderate of type {target_type!r}.")
    row = store.target(tx.session, city_id, target_type, _id_or_404(target_id, target_type), lock=True)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"No such {target_type} in this city.")
    hidden = row.hidden_at is not None
    effect = moderation.decide(data.decision, hidden)
    resolved = store.resolve_flags(tx, city_id, target_type, row.id, me.user_id, data.decision)
    if effect["deleted"]:
        _delete(tx, target_type, row, me.user_id)
    elif hidden:
        store.set_hidden(tx, target_type, city_id, row.id, False)
    if effect["event"] == "content_restored":
        tx.emit("ideas.content_restored", city_id=city_id, actor_id=me.user_id,
                data=_moderation_data(target_type, row, resolved))
    return {"target_type": target_type, "target_id": str(row.id), "decision": data.decision,
            "hidden": effect["hidden"], "deleted": effect["deleted"], "resolved_flags": resolved}


# -- for other services ----------------------------------------------------------------------------
def vote_target(session, city_id: str, target_type: str, target_id) -> dict:
    """What voting needs to know of an idea or comment it has not seen yet."""
    target = _uuid(target_id)
    if target_type not in TARGETS or target is None or _uuid(city_id) is None:
        raise NotFound(f"No such {target_type}.")
    row = store.target(session, city_id, target_type, target)
    if row is None:
        raise NotFound(f"No such {target_type} in this city.")
    idea_id = row.id if target_type == "idea" else row.idea_id
    idea = row if target_type == "idea" else store.target(session, city_id, "idea", idea_id)
    project = store.project(session, city_id, row.project_id)
    visible = all(r.deleted_at is None and r.hidden_at is None for r in (row, idea))
    return {
        "target_type": target_type, "target_id": str(row.id), "idea_id": str(idea_id),
        "project_id": str(row.project_id), "author_id": str(row.author_id), "visible": visible,
        "project_status": project.status, "allow_down_votes": project.allow_down_votes,
    }


# -- the users read model --------------------------------------------------------------------------
def author(db, peers, city_id, user_id):
    """The author's row of the users read model; asks accounts once when no event has brought it yet.
    A post goes on without it (the name arrives with the event)."""
    with db.read() as s:
        row = store.user(s, city_id, user_id)
    if row is not None and row.display_name is not None:
        return row
    try:
        profiles = peers.ask("accounts", "get_profiles", str(city_id), [str(user_id)])
    except AgoraError as exc:
        logs.get().warning("author_profile_unavailable", user_id=str(user_id), error=type(exc).__name__)
        return row
    if not profiles:
        return row
    profile = profiles[0]
    with db.transaction() as tx:
        return store.fill_profile(tx, city_id, user_id, profile["display_name"], profile.get("locale")) or row


def apply_profile(tx, profile, at) -> None:
    store.apply_profile(tx, profile.city_id, profile.user_id, profile.display_name, profile.locale, at)


# -- the vote read model ---------------------------------------------------------------------------
def apply_votes(tx, events) -> None:
    """Fold a batch of voting events into the totals and trending scores of their targets."""
    votes = [(event, validate(schemas.VoteEvent, event.data)) for event in events]
    for target_type in TARGETS:
        mine = [(e, v) for e, v in votes if v.target_type == target_type]
        if not mine:
            continue
        rows = store.lock_vote_rows(tx, target_type, list({str(v.target_id) for _, v in mine}))
        for event, vote in mine:
            row = rows.get(vote.target_id)
            if row is None or row.city_id != event.city_id:
                logs.get().warning("vote_for_unknown_target", target_type=target_type, target_id=str(vote.target_id))
                continue
            vote_counts.fold(row, target_type, event.name, vote, event.occurred_at)
        changed = [(target_id, row) for target_id, row in rows.items() if row.changed]
        if changed:
            store.write_vote_rows(tx, target_type, changed)
