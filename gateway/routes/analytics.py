"""Analytics: topics, similar ideas, demographic heatmap, participation dashboard and exports."""
import base64

from gateway.routing import ADMIN, MODERATOR, Reply, route
from services.analytics import schemas

TAG = "analytics"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _query(call) -> dict:
    return call.query.model_dump(mode="json", exclude_none=True, by_alias=True)


@route("GET", "/cities/<city>/projects/<project_id>/topics", response="Topics", tag=TAG,
       summary="Topics of a project's ideas: {status, model_version, topics: [{id, label, keywords, size, idea_ids}]}; "
               "with too few ideas status is not_enough_ideas (with needed and have) and topics is empty")
def topics(call):
    return call.rpc("analytics", "get_topics", call.principal, call.city_id, call.params["project_id"])


@route("POST", "/cities/<city>/projects/<project_id>/topics/refresh", auth=ADMIN, status=202,
       response="Accepted", tag=TAG,
       summary="Rebuild the project's topic model in the background (city admin)")
def refresh_topics(call):
    return Reply(call.rpc("analytics", "refresh_topics", call.principal, call.city_id, call.params["project_id"]),
                 status=202)


@route("GET", "/cities/<city>/ideas/<idea_id>/similar", query=schemas.SimilarQuery, response="SimilarIdeas", tag=TAG,
       summary="Ideas most similar to this one (duplicate detection): {items: [{idea_id, score, title}]}")
def similar_to_idea(call):
    return call.rpc("analytics", "similar_to_idea", call.principal, call.city_id, call.params["idea_id"],
                    _query(call))


@route("POST", "/cities/<city>/projects/<project_id>/similar", body=schemas.Draft, query=schemas.SimilarQuery,

       response="SimilarIdeas", tag=TAG, summary="Existing ideas similar to a draft {title, body, locale?} while a citizen types")
def similar_to_draft(call):
    return call.rpc("analytics", "similar_to_draft", call.principal, call.city_id, call.params["project_id"],
                    call.json, _query(call))


@route("GET", "/cities/<city>/projects/<project_id>/heatmap", auth=ADMIN, query=schemas.HeatmapQuery,
       response="Heatmap", tag=TAG,
       summary="Topic by demographic group: {cells: [{topic_id, group, count, expected, lift, p_value}], "
               "chi2, dof, p_value} (city admin)")
def heatmap(call):
    return call.rpc("analytics", "heatmap", call.principal, call.city_id, call.params["project_id"], _query(call))


@route("GET", "/cities/<city>/dashboard", auth=ADMIN, query=schemas.DashboardQuery, response="Dashboard", tag=TAG,
       summary="Participation: totals, a daily series and participants by demographic group; "
               "?from=&to= (days, default the last 30) &project_id= (city admin)")
def dashboard(call):
    return call.rpc("analytics", "dashboard", call.principal, call.city_id, _query(call))


def _file(answer: dict) -> Reply:
    body = answer["text"].encode("utf-8") if "text" in answer else base64.b64decode(answer["base64"])
    return Reply(body, content_type=answer["content_type"],
                 headers={"Content-Disposition": f'attachment; filename="{answer["filename"]}"'})


@route("GET", "/cities/<city>/projects/<project_id>/export.csv", auth=ADMIN, tag=TAG, produces="text/csv",
       summary="The project's ideas with topics, votes, status and author demographics, no e-mail (city admin)")
def export_csv(call):
    return _file(call.rpc("analytics", "export", call.principal, call.city_id, call.params["project_id"], "csv"))


@route("GET", "/cities/<city>/projects/<project_id>/export.xlsx", auth=ADMIN, tag=TAG,
       produces=XLSX,
       summary="The same export as an Excel workbook (city admin)")
def export_xlsx(call):
    return _file(call.rpc("analytics", "export", call.principal, call.city_id, call.params["project_id"], "xlsx"))


@route("GET", "/cities/<city>/projects/<project_id>/inputs", auth=MODERATOR, query=schemas.InputsQuery,
       response="InputPage", tag=TAG,
       summary="The input manager: the project's ideas with status, topics, votes, comments, flags and author "
               "demographics (never e-mail), filtered and sorted: {items, next_cursor} (moderator or admin)")
def inputs(call):
    return call.rpc("analytics", "inputs", call.principal, call.city_id, call.params["project_id"], _query(call))



def _export(call, method: str, fmt: str) -> Reply:
    return _file(call.rpc("analytics", method, call.principal, call.city_id, call.params["project_id"], fmt))


@route("GET", "/cities/<city>/projects/<project_id>/comments/export.csv", auth=ADMIN, tag=TAG, produces="text/csv",
       summary="The project's comments with their authors' demographics only, no e-mail (city admin)")
def export_comments_csv(call):
    return _export(call, "export_comments", "csv")


@route("GET", "/cities/<city>/projects/<project_id>/comments/export.xlsx", auth=ADMIN, tag=TAG, produces=XLSX,
       summary="The same comments export as an Excel workbook (city admin)")
def export_comments_xlsx(call):
    return _export(call, "export_comments", "xlsx")


@route("GET", "/cities/<city>/projects/<project_id>/votes/export.csv", auth=ADMIN, tag=TAG, produces="text/csv",
       summary="The project's current votes with the voters' demographics only, no e-mail or voter id (city admin)")
def export_votes_csv(call):
    return _export(call, "export_votes", "csv")


@route("GET", "/cities/<city>/projects/<project_id>/votes/export.xlsx", auth=ADMIN, tag=TAG, produces=XLSX,
       summary="The same votes export as an Excel workbook (city admin)")
def export_votes_xlsx(call):
    return _export(call, "export_votes", "xlsx")
