"""Polls of `poll` projects: questions (city admins), one response per user, results by demographic group."""
from gateway.queries import ListQuery
from gateway.routes.ideas import with_locales
from gateway.routing import ADMIN, USER, route
from services.voting import schemas

TAG = "polls"
BASE = "/cities/<city>/projects/<project_id>/poll"


@route("POST", BASE + "/questions", auth=ADMIN, body=schemas.NewQuestion, status=201, response="Question", tag=TAG,
       summary="Add a single or multiple choice question (texts in the city's locales)")
def create_question(call):
    return call.rpc("voting", "create_question", call.principal, call.city_id, call.params["project_id"],
                    with_locales(call))


@route("GET", BASE + "/questions", query=ListQuery,
       response="QuestionPage", tag=TAG, summary="The poll's questions with their options")
def list_questions(call):
    return call.rpc("voting", "list_questions", call.principal, call.city_id, call.params["project_id"],
                    call.query.model_dump(exclude_none=True))


@route("PUT", BASE + "/response", auth=USER, body=schemas.PollAnswers, response="PollAnswered", tag=TAG,
       summary="Answer the poll: {answers: {question_id: [option_id]}}; answering again replaces")
def answer(call):
    return call.rpc("voting", "answer_poll", call.principal, call.city_id, call.params["project_id"], call.json)


@route("GET", BASE + "/response", auth=USER, response="PollResponse", tag=TAG, summary="One's own response")
def own_response(call):
    return call.rpc("voting", "get_response", call.principal, call.city_id, call.params["project_id"])


@route("GET", BASE + "/results", query=schemas.ResultsQuery, response="PollResults", tag=TAG,
       summary="Counts per option, overall or ?by=age_group|gender|district")
def results(call):
    return call.rpc("voting", "poll_results", call.principal, call.city_id, call.params["project_id"],
                    call.query.model_dump(exclude_none=True))
