"""Ideas, comments, flags and the moderation queue."""
from gateway.routing import ADMIN, MODERATOR, USER, Reply, route
from services.ideas import schemas

TAG = "ideas"


def _query(call) -> dict:
    return call.query.model_dump(exclude_none=True)


def with_locales(call) -> dict:
    """The body, and the city's locales its texts are checked against."""
    return {**call.json, "city_locales": list(call.city.get("locales") or [])}


# -- ideas -----------------------------------------------------------------------------------------
@route("GET", "/cities/<city>/ideas/<idea_id>", response="Idea", tag=TAG,
       summary="An idea with its votes, comment count, status and author")
def get_idea(call):
    return call.rpc("ideas", "get_idea", call.principal, call.city_id, call.params["idea_id"])


@route("PATCH", "/cities/<city>/ideas/<idea_id>", auth=USER, body=schemas.IdeaPatch, response="Idea", tag=TAG,
       summary="Edit an idea (its author or a moderator)")
def update_idea(call):
    return call.rpc("ideas", "update_idea", call.principal, call.city_id, call.params["idea_id"], with_locales(call))


@route("DELETE", "/cities/<city>/ideas/<idea_id>", auth=USER, status=204, tag=TAG,
       summary="Delete an idea (soft; its author or a moderator)")
def delete_idea(call):
    call.rpc("ideas", "delete_idea", call.principal, call.city_id, call.params["idea_id"])
    return Reply(None, status=204)


@route("POST", "/cities/<city>/ideas/<idea_id>/status", auth=ADMIN, body=schemas.StatusChange, response="Idea", tag=TAG,
       summary="Move an idea along the status workflow, with official feedback (city admin)")
def change_status(call):
    return call.rpc("ideas", "change_status", call.principal, call.city_id, call.params["idea_id"], with_locales(call))


# -- comments --------------------------------------------------------------------------------------
@route("POST", "/cities/<city>/ideas/<idea_id>/comments", auth=USER, body=schemas.NewComment, status=201,
       response="Comment", tag=TAG, summary="Comment on an idea, or reply to a top-level comment (parent_id)")
def create_comment(call):
    return call.rpc("ideas", "create_comment", call.principal, call.city_id, call.params["idea_id"], call.json)


@route("GET", "/cities/<city>/ideas/<idea_id>/comments", query=schemas.FlagQuery, response="CommentPage", tag=TAG,
       summary="Comments of an idea, oldest first; deleted ones remain as tombstones without text")
def list_comments(call):
    return call.rpc("ideas", "list_comments", call.principal, call.city_id, call.params["idea_id"], _query(call))


@route("GET", "/cities/<city>/comments/<comment_id>", response="Comment", tag=TAG, summary="A comment")
def get_comment(call):
    return call.rpc("ideas", "get_comment", call.principal, call.city_id, call.params["comment_id"])


@route("PATCH", "/cities/<city>/comments/<comment_id>", auth=USER, body=schemas.CommentPatch,
       response="Comment", tag=TAG,
       summary="Edit a comment (its author or a moderator)")
def update_comment(call):
    return call.rpc("ideas", "update_comment", call.principal, call.city_id, call.params["comment_id"], call.json)


@route("DELETE", "/cities/<city>/comments/<comment_id>", auth=USER, status=204, tag=TAG,
       summary="Delete a comment (soft; its author or a moderator)")
def delete_comment(call):
    call.rpc("ideas", "delete_comment", call.principal, call.city_id, call.params["comment_id"])
    return Reply(None, status=204)


# -- flags and moderation --------------------------------------------------------------------------
@route("POST", "/cities/<city>/ideas/<idea_id>/flags", auth=USER, body=schemas.NewFlag, status=201,
       response="Flag", tag=TAG,
       summary="Flag an idea (once per user); it is hidden after the project's flag threshold")
def flag_idea(call):
    return call.rpc("ideas", "flag", call.principal, call.city_id, "idea", call.params["idea_id"], call.json)


@route("POST", "/cities/<city>/comments/<comment_id>/flags", auth=USER, body=schemas.NewFlag, status=201,

       response="Flag", tag=TAG, summary="Flag a comment (once per user); it is hidden after the project's flag threshold")
def flag_comment(call):
    return call.rpc("ideas", "flag", call.principal, call.city_id, "comment", call.params["comment_id"], call.json)


@route("GET", "/cities/<city>/moderation/flags", auth=MODERATOR, query=schemas.FlagQuery,
       response="FlagQueue", tag="moderation",
       summary="The moderation queue: flagged ideas and comments with open flags, oldest first")
def list_flags(call):
    return call.rpc("ideas", "list_flags", call.principal, call.city_id, _query(call))


@route("POST", "/cities/<city>/moderation/<target_type>/<target_id>", auth=MODERATOR,
       body=schemas.ModerationDecision, response="Moderated", tag="moderation",
       summary="Decide on flagged content: restore (unhide, dismiss flags) or remove (delete); target_type idea|comment")
def moderate(call):
    return call.rpc("ideas", "moderate", call.principal, call.city_id, call.params["target_type"],
                    call.params["target_id"], call.json)


# -- the caller's own ------------------------------------------------------------------------------
@route("GET", "/cities/<city>/users/me/ideas", auth=USER, query=schemas.OwnQuery, response="IdeaPage", tag=TAG,
       summary="One's own ideas across the city's projects, newest first")
def own_ideas(call):
    return call.rpc("ideas", "list_own", call.principal, call.city_id, "idea", _query(call))


@route("GET", "/cities/<city>/users/me/comments", auth=USER, query=schemas.OwnQuery, response="CommentPage",
       tag=TAG,
       summary="One's own comments, newest first (each names its idea_id)")
def own_comments(call):
    return call.rpc("ideas", "list_own", call.principal, call.city_id, "comment", _query(call))
