"""Gamification: leaderboards, scores and badges, the rules, and the admin view of engaged citizens."""
from gateway.routing import ADMIN, Reply, route
from services.gamification import schemas

TAG = "gamification"


@route("GET", "/cities/<city>/leaderboard", query=schemas.LeaderboardQuery, response="Leaderboard", tag=TAG,
       summary="The city's leaderboard (standard competition ranks: equal points, equal rank)")
def leaderboard(call):
    return call.rpc("gamification", "leaderboard", call.principal, call.city_id, call.query.model_dump(mode="json"))


@route("GET", "/cities/<city>/users/<user_id>/score", query=schemas.ScoreQuery, response="Score", tag=TAG,
       summary="A user's points, rank, level and badges")
def score(call):
    return call.rpc("gamification", "score", call.principal, call.city_id, call.params["user_id"],
                    call.query.model_dump(mode="json"))


@route("GET", "/cities/<city>/gamification/rules", response="Rules", tag=TAG,
       summary="The points each action earns, the daily cap, badge thresholds and levels")
def rules(call):
    return call.rpc("gamification", "get_rules", call.principal, call.city_id)


@route("PATCH", "/cities/<city>/gamification/rules", auth=ADMIN, body=schemas.RulesChange, response="Rules", tag=TAG,
       summary="Change the city's rules (city admin); applies to points earned from now on")
def update_rules(call):
    return call.rpc("gamification", "update_rules", call.principal, call.city_id, call.json)


@route("GET", "/cities/<city>/gamification/engaged", auth=ADMIN, query=schemas.EngagedQuery,
       response="Engaged", produces=("application/json", "text/csv"), tag=TAG,
       summary="The most engaged citizens over a period (?from=&to=&format=json|csv), to reward them")
def engaged(call):
    query = call.query.model_dump(mode="json", by_alias=True, exclude_none=True)
    result = call.rpc("gamification", "engaged", call.principal, call.city_id, query)
    if call.query.format == "csv":
        name = f"engaged-{call.city['slug']}-{result['from'][:10]}-{result['to'][:10]}.csv"
        return Reply(result["csv"], content_type="text/csv; charset=utf-8",
                     headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return result
