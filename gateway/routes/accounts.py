"""Cities and accounts."""
from gateway.routing import ADMIN, PLATFORM, USER, Reply, route
from gateway.ratelimit import RateLimiter
from services.accounts import schemas
from services.common.config import settings
from services.common.errors import RateLimited

TAG = "accounts"
# Login attempts a minute: for one e-mail from one address, and for one address across e-mails.
_per_account = RateLimiter(capacity=settings().login_attempts_per_account, per_seconds=60)
_per_address = RateLimiter(capacity=settings().login_attempts_per_address, per_seconds=60)


@route("POST", "/cities", auth=PLATFORM, body=schemas.NewCity, status=201, tag=TAG,
       summary="Create a city with its first admin (platform operator)")
def create_city(call):
    return call.rpc("accounts", "create_city", None, call.json)


@route("GET", "/cities/<city>", tag=TAG, summary="A city")
def get_city(call):
    return call.city


@route("POST", "/cities/<city>/users", body=schemas.NewUser, status=201, tag=TAG, summary="Sign up")
def register(call):
    return call.rpc("accounts", "register", call.principal, call.city_id, call.json)


@route("POST", "/cities/<city>/auth/token", body=schemas.Credentials, tag=TAG,
       summary="Log in: an access token for this city (rate limited)")
def token(call):
    for limiter, key in (
        (_per_account, f"{call.remote_addr}|{call.city_id}|{call.body.email.lower()}"),
        (_per_address, call.remote_addr),
    ):
        wait = limiter.hit(key)
        if wait:
            raise RateLimited("Too many login attempts; try again later.", [{"retry_after": int(wait) + 1}])
    return call.rpc("accounts", "issue_token", call.principal, call.city_id, call.json)


@route("GET", "/cities/<city>/users", auth=ADMIN, query=schemas.UserQuery, tag=TAG,
       summary="The city's users, oldest first, by role or part of the name or e-mail (city admin)")
def list_users(call):
    return call.rpc("accounts", "list_users", call.principal, call.city_id,
                    call.query.model_dump(mode="json", exclude_none=True))


@route("GET", "/cities/<city>/users/me", auth=USER, tag=TAG, summary="Own profile")
def me(call):
    return call.rpc("accounts", "get_me", call.principal, call.city_id)


@route("PATCH", "/cities/<city>/users/me", auth=USER, body=schemas.ProfilePatch, tag=TAG,
       summary="Change own profile and demographics")
def update_me(call):
    return call.rpc("accounts", "update_me", call.principal, call.city_id, call.json)


@route("PUT", "/cities/<city>/users/<user_id>/role", auth=ADMIN, body=schemas.RoleChange, tag=TAG,
       summary="Set a user's role (city admin)")
def set_role(call):
    return call.rpc("accounts", "set_role", call.principal, call.city_id, call.params["user_id"], call.json)


__all__ = ["Reply"]
