"""Projects (consultations), and the ideas posted in them."""
from gateway.routes.ideas import with_locales
from gateway.routing import ADMIN, USER, route
from services.ideas import schemas

TAG = "projects"


def _query(call) -> dict:
    return call.query.model_dump(exclude_none=True)


@route("POST", "/cities/<city>/projects", auth=ADMIN, body=schemas.NewProject, status=201, response="Project", tag=TAG,
       summary="Create a project (city admin); texts in the city's locales")
def create_project(call):
    return call.rpc("ideas", "create_project", call.principal, call.city_id, with_locales(call))


@route("GET", "/cities/<city>/projects", query=schemas.ProjectQuery, response="ProjectPage", tag=TAG,
       summary="Projects of the city, newest first (drafts only for moderators and admins)")
def list_projects(call):
    return call.rpc("ideas", "list_projects", call.principal, call.city_id, _query(call))


@route("GET", "/cities/<city>/projects/<project_id>", response="Project", tag=TAG, summary="A project")
def get_project(call):
    return call.rpc("ideas", "get_project", call.principal, call.city_id, call.params["project_id"])


@route("PATCH", "/cities/<city>/projects/<project_id>", auth=ADMIN, body=schemas.ProjectPatch,
       response="Project", tag=TAG,
       summary="Change a project: texts, method, status, topics (city admin)")
def update_project(call):
    return call.rpc("ideas", "update_project", call.principal, call.city_id, call.params["project_id"], with_locales(call))


@route("POST", "/cities/<city>/projects/<project_id>/ideas", auth=USER, body=schemas.NewIdea, status=201,
       response="Idea", tag="ideas", summary="Post an idea in an active ideation or budgeting project")
def create_idea(call):
    return call.rpc("ideas", "create_idea", call.principal, call.city_id, call.params["project_id"], with_locales(call))


@route("GET", "/cities/<city>/projects/<project_id>/ideas", query=schemas.IdeaQuery, response="IdeaPage", tag="ideas",
       summary="Ideas of a project: ?sort=new|popular|trending|controversial&topic=&status=&q=")
def list_ideas(call):
    return call.rpc("ideas", "list_ideas", call.principal, call.city_id, call.params["project_id"], _query(call))
