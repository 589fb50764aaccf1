"""Cities and accounts."""
import hmac

from gateway.principals import principals
from gateway.ratelimit import RateLimiter, SharedBuckets
from gateway.routing import ADMIN, PLATFORM, USER, Reply, route
from services.accounts import schemas
from services.common.config import settings
from services.common.errors import RateLimited

TAG = "accounts"
_buckets = SharedBuckets(settings().redis_url, settings().redis_prefix)
# Login attempts a minute for one account, from wherever they come, and for one address across
# accounts; sign-ups an hour from one address. Shared by every gateway replica.
_per_account = RateLimiter(settings().login_attempts_per_account, 60, name="login-account", buckets=_buckets)
_per_address = RateLimiter(settings().login_attempts_per_address, 60, name="login-address", buckets=_buckets)
_signups = RateLimiter(settings().signups_per_address, 3600, name="signup-address", buckets=_buckets)


def _limit(limiter: RateLimiter, key: str, message: str) -> None:
    wait = limiter.hit(key)
    if wait:
        raise RateLimited(message, [{"retry_after": int(wait) + 1}])


@route("POST", "/cities", auth=PLATFORM, body=schemas.NewCity, status=201, response="CityCreated", tag=TAG,
       summary="Create a city with its first admin (platform operator)")
def create_city(call):
    return call.rpc("accounts", "create_city", None, call.json)


@route("GET", "/cities/<city>", response="City", tag=TAG, summary="A city")
def get_city(call):
    return call.city


@route("POST", "/cities/<city>/users", body=schemas.NewUser, status=201, response="Me", tag=TAG, summary="Sign up")
def register(call):
    # an operator's loader (scripts/demo.py) that sends the platform key is not limited
    key = call.headers.get("X-Platform-Key", "")
    if not hmac.compare_digest(key.encode(), settings().platform_admin_key.encode()):
        _limit(_signups, call.remote_addr, "Too many sign-ups from this address; try again later.")
    return call.rpc("accounts", "register", call.principal, call.city_id, call.json)


@route("POST", "/cities/<city>/auth/token", body=schemas.Credentials, response="Token", tag=TAG,
       summary="Log in: an access token for this city (rate limited)")
def token(call):
    _limit(_per_account, f"{call.city_id}|{call.body.email.lower()}", "Too many login attempts; try again later.")
    _limit(_per_address, call.remote_addr, "Too many login attempts; try again later.")
    return call.rpc("accounts", "issue_token", call.principal, call.city_id, call.json)


@route("GET", "/cities/<city>/users", auth=ADMIN, query=schemas.UserQuery, response="UserPage", tag=TAG,
       summary="The city's users, oldest first, by role or part of the name or e-mail (city admin)")
def list_users(call):
    return call.rpc("accounts", "list_users", call.principal, call.city_id,
                    call.query.model_dump(mode="json", exclude_none=True))


@route("GET", "/cities/<city>/users/me", auth=USER, response="Me", tag=TAG, summary="Own profile")
def me(call):
    return call.rpc("accounts", "get_me", call.principal, call.city_id)


@route("PATCH", "/cities/<city>/users/me", auth=USER, body=schemas.ProfilePatch, response="Me", tag=TAG,
       summary="Change own profile and demographics")
def update_me(call):
    return call.rpc("accounts", "update_me", call.principal, call.city_id, call.json)


@route("PUT", "/cities/<city>/users/<user_id>/role", auth=ADMIN, body=schemas.RoleChange, response="Profile", tag=TAG,
       summary="Set a user's role (city admin)")
def set_role(call):
    answer = call.rpc("accounts", "set_role", call.principal, call.city_id, call.params["user_id"], call.json)
    principals().forget(call.city_id, answer["user_id"])  # the other replicas hear of it from the event
    return answer


__all__ = ["Reply"]
