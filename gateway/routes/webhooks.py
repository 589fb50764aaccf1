"""Webhooks: a city's back-office systems receive its events as signed HTTP POSTs (docs/webhooks.md)."""
from gateway.routing import ADMIN, Reply, route
from services.notifications import schemas

TAG = "webhooks"


@route("POST", "/cities/<city>/webhooks", auth=ADMIN, body=schemas.NewWebhook, status=201,
       response="CreatedWebhook", tag=TAG,
       summary="Subscribe a URL to event types; answers the signing secret once")
def create(call):
    return call.rpc("notifications", "create_webhook", call.principal, call.json)


@route("GET", "/cities/<city>/webhooks", auth=ADMIN, query=schemas.PageQuery,
       response="WebhookPage", tag=TAG, summary="The city's webhooks")
def list_(call):
    return call.rpc("notifications", "list_webhooks", call.principal, call.query.model_dump(mode="json"))


@route("GET", "/cities/<city>/webhooks/<webhook_id>", auth=ADMIN, response="Webhook", tag=TAG, summary="One webhook")
def get(call):
    return call.rpc("notifications", "get_webhook", call.principal, call.params["webhook_id"])


@route("DELETE", "/cities/<city>/webhooks/<webhook_id>", auth=ADMIN, status=204, tag=TAG,
       summary="Delete a webhook; its pending deliveries are cancelled")
def delete(call):
    call.rpc("notifications", "delete_webhook", call.principal, call.params["webhook_id"])
    return Reply(None, status=204)


@route("GET", "/cities/<city>/webhooks/<webhook_id>/deliveries", auth=ADMIN, query=schemas.PageQuery,
       response="DeliveryPage", tag=TAG,
       summary="Delivery log: status, attempts with status codes and errors, next retry")
def deliveries(call):
    return call.rpc("notifications", "list_deliveries", call.principal, call.params["webhook_id"],
                    call.query.model_dump(mode="json"))
