"""Votes on ideas and comments.

PUT casts or changes the caller's vote and DELETE withdraws it; both answer
`{value, up_votes, down_votes}` (value null after a withdrawal) with the target's totals after the change.
GET (anyone) answers the same, with the caller's own value when signed in.
Refusals: 404 unknown idea or comment; 409 own content, hidden or deleted content, a project that is not
active (draft or closed), or a down vote where the project switched them off; 422 a value other than up/down.
"""
from gateway.routing import USER, route
from services.voting import schemas

TAG = "votes"


def _register(kind: str, param: str):
    path = f"/cities/<city>/{kind}s/<{param}>/vote"

    @route("PUT", path, auth=USER, body=schemas.VoteBody, response="Vote", tag=TAG,
           summary=f"Vote up or down on a {kind}; again: change it. 409: own, hidden or deleted {kind}, "
                   "project not active, down votes off")
    def put_vote(call):
        # votes arriving together travel as one message and are cast in one transaction
        return call.batched("voting", "cast_votes", {"principal": call.principal, "city_id": call.city_id,
                                                     "target_type": kind, "target_id": call.params[param],
                                                     "body": call.json})

    @route("DELETE", path, auth=USER,
           response="Vote", tag=TAG, summary=f"Withdraw one's vote on a {kind}: 200 with value null (also when there was none)")
    def delete_vote(call):
        return call.rpc("voting", "withdraw_vote", call.principal, call.city_id, kind, call.params[param])

    @route("GET", path, response="Vote", tag=TAG, summary=f"A {kind}'s vote totals and the caller's own vote")
    def get_vote(call):
        return call.rpc("voting", "get_vote", call.principal, call.city_id, kind, call.params[param])

    for handler, verb in ((put_vote, "put"), (delete_vote, "delete"), (get_vote, "get")):
        handler.__name__ = f"{verb}_{kind}_vote"  # distinct OpenAPI operation ids


_register("idea", "idea_id")
_register("comment", "comment_id")


@route("GET", "/cities/<city>/users/me/votes", auth=USER, query=schemas.OwnVotesQuery, response="OwnVotes", tag=TAG,
       summary="One's own votes on up to 100 ideas or comments: ?target_type=idea|comment&ids=<id>,<id>")
def own_votes(call):
    return call.rpc("voting", "own_votes", call.principal, call.city_id, call.query.model_dump(mode="json"))
