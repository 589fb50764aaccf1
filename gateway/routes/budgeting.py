"""Participatory budgeting of `budgeting` projects: the budget, its items, ballots, results, pabulib files."""
from gateway.queries import ListQuery
from gateway.routing import ADMIN, USER, Reply, route
from services.budgeting import schemas

TAG = "budgeting"
PROJECT = "/cities/<city>/projects/<project_id>"
BUDGET = PROJECT + "/budget"
MAX_PB_FILE = 64 * 1024 * 1024  # the largest pabulib files are a few MiB (Wrocław 2017: 3 MiB, 62,529 voters)


@route("PUT", BUDGET, auth=ADMIN, body=schemas.BudgetBody, response="Budget", tag=TAG,
       summary="Configure the budget: total, currency, ballot rules, phase (collecting → voting → closed), rule")
def configure(call):
    return call.rpc("budgeting", "configure_budget", call.principal, call.city_id, call.params["project_id"], call.json)


@route("GET", BUDGET, response="Budget", tag=TAG, summary="The budget: total, currency, ballot rules, phase, counts")
def get_budget(call):
    return call.rpc("budgeting", "get_budget", call.principal, call.city_id, call.params["project_id"])


@route("POST", BUDGET + "/items", auth=ADMIN, body=schemas.NewItem, status=201, response="Item", tag=TAG,
       summary="Add an item (title in the city's locales, cost > 0, optional accepted idea) while collecting")
def add_item(call):
    return call.rpc("budgeting", "add_item", call.principal, call.city_id, call.params["project_id"],
                    {**call.json, "city_locales": call.city.get("locales") or []})


@route("GET", BUDGET + "/items", query=ListQuery,
       response="ItemPage", tag=TAG, summary="The budget's items, in the order added")
def list_items(call):
    return call.rpc("budgeting", "list_items", call.principal, call.city_id, call.params["project_id"],
                    call.query.model_dump(mode="json"))


@route("DELETE", BUDGET + "/items/<item_id>", auth=ADMIN,
       response="Deleted", tag=TAG, summary="Remove an item while collecting")
def delete_item(call):
    return call.rpc("budgeting", "delete_item", call.principal, call.city_id, call.params["project_id"],
                    call.params["item_id"])


@route("PUT", PROJECT + "/ballot", auth=USER, body=schemas.BallotBody, response="Ballot", tag=TAG,
       summary="Save one's draft ballot ({item_ids} or {points}) while voting; 422 naming the rule it breaks")
def save_ballot(call):
    return call.rpc("budgeting", "save_ballot", call.principal, call.city_id, call.params["project_id"], call.json)


@route("GET", PROJECT + "/ballot", auth=USER,
       response="Ballot", tag=TAG, summary="One's own ballot, draft or submitted")
def get_ballot(call):
    return call.rpc("budgeting", "get_ballot", call.principal, call.city_id, call.params["project_id"])


@route("POST", PROJECT + "/ballot/submit", auth=USER, body=schemas.BallotBody, response="Ballot", tag=TAG,
       summary="Submit one's ballot (the draft, or the ballot in the body); final, 409 on any later change")
def submit_ballot(call):
    return call.rpc("budgeting", "submit_ballot", call.principal, call.city_id, call.params["project_id"], call.json)


@route("GET", BUDGET + "/results", query=schemas.ResultsQuery, response="BudgetResults", tag=TAG,
       summary="Outcome over submitted ballots: ?rule=greedy|mes|mes-raw|phragmen&by=age_group|gender|district")
def results(call):
    return call.rpc("budgeting", "results", call.principal, call.city_id, call.params["project_id"],
                    call.query.model_dump(mode="json"))


@route("POST", BUDGET + "/import", auth=ADMIN, raw_body="text/plain", status=201, response="Imported", tag=TAG,
       # a city-wide file (60,000 voters) takes seconds to parse, store and count
       extra={"max_body": MAX_PB_FILE, "rpc_timeout": 60},
       summary="Import a pabulib .pb file (text/plain) into an empty budget: items and anonymous submitted ballots")
def import_pb(call):
    return call.rpc("budgeting", "import_pabulib", call.principal, call.city_id, call.params["project_id"],
                    {"text": call.body, "city_locales": call.city.get("locales") or []})


@route("GET", BUDGET + "/export", auth=ADMIN, produces="text/plain", tag=TAG,
       summary="The budget as a pabulib .pb file")
def export_pb(call):
    text = call.rpc("budgeting", "export_pabulib", call.principal, call.city_id, call.params["project_id"])
    filename = f"{call.city['slug']}-{call.params['project_id']}.pb"
    return Reply(text, content_type="text/plain; charset=utf-8",
                 headers={"Content-Disposition": f'attachment; filename="{filename}"'})
