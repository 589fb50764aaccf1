"""Notifications: the in-app inbox, preferences and the unsubscribe link of e-mails."""
import html

from gateway.routing import PUBLIC, USER, Reply, route
from services.notifications import schemas

TAG = "notifications"


@route("GET", "/cities/<city>/users/me/notifications", auth=USER, query=schemas.InboxQuery, response="Inbox", tag=TAG,
       summary="Own notifications, newest first (`?unread=true`), with the unread count")
def inbox(call):
    return call.rpc("notifications", "list_notifications", call.principal, call.query.model_dump(mode="json"))


@route("GET", "/cities/<city>/users/me/notifications/unread-count", auth=USER, response="UnreadCount", tag=TAG,
       summary="How many own notifications are unread")
def unread_count(call):
    return call.rpc("notifications", "unread_count", call.principal)


@route("POST", "/cities/<city>/users/me/notifications/read", auth=USER, body=schemas.MarkRead,
       response="MarkedRead", tag=TAG,
       summary="Mark notifications read: `{ids: [..]}` or `{all: true}`")
def mark_read(call):
    return call.rpc("notifications", "mark_read", call.principal, call.json)


@route("GET", "/cities/<city>/users/me/notification-preferences", auth=USER, response="NotificationPreferences", tag=TAG,
       summary="Own notification preferences")
def get_preferences(call):
    return call.rpc("notifications", "get_preferences", call.principal)


@route("PUT", "/cities/<city>/users/me/notification-preferences", auth=USER, body=schemas.Preferences,
       response="NotificationPreferences", tag=TAG,
       summary="Set own notification preferences: e-mail instant, daily or off; in-app on or off")
def set_preferences(call):
    return call.rpc("notifications", "set_preferences", call.principal, call.json)


def _unsubscribed(call, city_id):
    prefs = call.rpc("notifications", "unsubscribe", city_id, call.query.token)
    if "text/html" in (call.headers.get("Accept") or ""):
        name = html.escape(call.city["name"]) if call.city else "Agora"
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title></head><body>"
                f"<p>{name}: you will receive no more e-mail notifications. "
                "You can turn them on again in your notification preferences.</p></body></html>")
        return Reply(page, content_type="text/html; charset=utf-8")
    return prefs


@route("GET", "/cities/<city>/notifications/unsubscribe", auth=PUBLIC, query=schemas.UnsubscribeQuery,
       response="NotificationPreferences", produces=("application/json", "text/html"), tag=TAG,
       summary="The unsubscribe link of e-mails: turns e-mail off for the user the token names, without login")
def unsubscribe(call):
    return _unsubscribed(call, call.city_id)


@route("POST", "/cities/<city>/notifications/unsubscribe", auth=PUBLIC, query=schemas.UnsubscribeQuery,
       response="NotificationPreferences", produces=("application/json", "text/html"), tag=TAG,
       summary="One-click unsubscribe (RFC 8058, List-Unsubscribe-Post)")
def unsubscribe_one_click(call):
    return _unsubscribed(call, call.city_id)


@route("GET", "/notifications/unsubscribe", auth=PUBLIC, query=schemas.UnsubscribeQuery,
       response="NotificationPreferences", produces=("application/json", "text/html"), tag=TAG,
       summary="Unsubscribe link when the city is not known by slug; the token names the city")
def unsubscribe_any_city(call):
    return _unsubscribed(call, None)
