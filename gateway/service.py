"""The HTTP gateway: routing, auth checks, validation and error mapping. It owns no data."""
from __future__ import annotations

import functools
import hmac
import json
import time
from contextlib import contextmanager

import eventlet
from amqp.exceptions import AMQPError
from kombu import Connection
from kombu.exceptions import KombuError
from nameko.exceptions import RemoteError, UnknownService
from nameko.web.handlers import HttpRequestHandler
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound as RouteNotFound
from werkzeug.wrappers import Response

from gateway import openapi, routes  # noqa: F401  (routes register themselves)
from gateway.request import Call
from gateway.routing import ADMIN, MODERATOR, PLATFORM, PUBLIC, Reply, by_endpoint, url_map
from services.common import auth, logs, metrics
from services.common.config import settings
from services.common.errors import (
    AgoraError, BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable, field_issues,
)
from services.common.observability import Observability
from services.common.rpc_client import RpcClient

SERVICES = ("accounts", "ideas", "voting", "gamification", "budgeting", "notifications", "analytics")
MAX_JSON_BODY = 1 * 1024 * 1024
CITY_CACHE_SECONDS = 300

URLS = url_map()
ROUTES = by_endpoint()
_cities: dict[str, tuple[float, dict]] = {}


class _Http(HttpRequestHandler):
    """Nameko's HTTP entrypoint without its check of the handler's signature on every request
    (`inspect.getcallargs`): the gateway's few handlers take the request and the URL's values."""

    def check_signature(self, args, kwargs):
        pass


http = _Http.decorator


def error_response(exc: AgoraError, headers: dict | None = None) -> Response:
    return Response(
        json.dumps({"error": exc.to_dict()}), status=exc.status, mimetype="application/json", headers=headers
    )


class GatewayService:
    name = "gateway"

    # Requests expire in the queue when the gateway stops waiting for them: a call to a service that
    # is down answers 503 and does not run late, unseen, when the service returns.
    rpc = RpcClient()
    obs = Observability()

    @http("GET,POST,PUT,PATCH,DELETE", "/api/v1/<path:path>")
    def api(self, request, path):
        started = time.perf_counter()
        endpoint, status = "unmatched", 500
        try:
            adapter = URLS.bind("", path_info="/" + path)
            endpoint, params = adapter.match(method=request.method)
            reply = self._dispatch(ROUTES[endpoint], request, params)
            status = reply.status
            return Response(reply.encode(), status=reply.status, content_type=reply.content_type,
                            headers=reply.headers)
        except RouteNotFound:
            status = 404
            return error_response(NotFound(f"No route {request.method} /api/v1/{path}."))
        except MethodNotAllowed as exc:
            status = 405
            return Response(
                json.dumps({"error": {"code": "METHOD_NOT_ALLOWED", "message": "Method not allowed here."}}),
                status=405, mimetype="application/json", headers={"Allow": ", ".join(exc.valid_methods or [])},
            )
        except AgoraError as exc:
            status = exc.status
            return error_response(exc, _retry_after(exc))
        except RemoteError as exc:
            status = 500
            logs.get().error("service_error", exc_type=exc.exc_type, route=endpoint)
            return error_response(_Internal("A service failed; the error is logged."))
        finally:
            elapsed = time.perf_counter() - started
            metrics.HTTP_REQUESTS.labels(request.method, endpoint, str(status)).observe(elapsed)
            logs.get().info("http_request", method=request.method, route=endpoint, status=status,
                            ms=round(elapsed * 1000, 1))

    # -- the request pipeline -----------------------------------------------------------------------
    def _dispatch(self, route, request, params) -> Reply:
        principal = self._principal(request)
        if route.auth == PLATFORM:
            key = request.headers.get("X-Platform-Key", "")
            if not hmac.compare_digest(key.encode(), settings().platform_admin_key.encode()):
                raise Forbidden("This needs the platform key (X-Platform-Key).")
        elif route.auth != PUBLIC:
            if principal is None:
                raise Unauthorized("This needs a bearer token.")
            needed = {ADMIN: "admin", MODERATOR: "moderator"}.get(route.auth)
            if needed and not auth.Principal.model_validate(principal).at_least(needed):
                raise Forbidden(f"This needs the {needed} role.")
        city = None
        if "city" in params:
            city = self._city(params["city"])
            if principal is not None and principal["city_id"] != city["id"]:
                raise Forbidden("The token is not valid for this city.")
            logs.bind(city_id=city["id"])
        call = Call(
            params=params,
            query=_validated(route.query, request.args.to_dict(flat=True), "query") if route.query else request.args,
            body=self._body(route, request),
            principal=principal,
            city=city,
            headers=request.headers,
            remote_addr=_client_address(request),
            rpc=functools.partial(self._rpc, timeout=route.extra.get("rpc_timeout")),
            batched=functools.partial(self._batched, timeout=route.extra.get("rpc_timeout")),
        )
        result = route.handler(call)
        if isinstance(result, Reply):
            return result
        return Reply(result, status=route.status)

    def _principal(self, request) -> dict | None:
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        claims = auth.verify_token_cached(token.strip(), settings().jwt_secret)
        return {"user_id": claims["sub"], "city_id": claims["city"], "role": claims["role"]}

    def _city(self, slug: str) -> dict:
        hit = _cities.get(slug)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        city = self._rpc("accounts", "get_city", slug)
        _cities[slug] = (time.monotonic() + CITY_CACHE_SECONDS, city)
        return city

    def _body(self, route, request):
        if route.body is None and route.raw_body is None:
            return None
        limit = route.extra.get("max_body", MAX_JSON_BODY)
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        data = request.stream.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        if route.raw_body is not None:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("The body is not UTF-8 text.") from None
        try:
            payload = json.loads(data or b"null")
        except ValueError:
            raise BadRequest("The body is not valid JSON.") from None
        if payload is None:
            payload = {}
        return _validated(route.body, payload, "body")

    def _rpc(self, service: str, method: str, *args, timeout: float | None = None):
        with _service_answer(service):
            return self.rpc.call(service, method, *args, timeout=timeout or settings().rpc_timeout)

    def _batched(self, service: str, method: str, item, timeout: float | None = None):
        with _service_answer(service):
            return self.rpc.batched(service, method, item, timeout=timeout or settings().rpc_timeout)

    # -- operations ---------------------------------------------------------------------------------
    @http("GET", "/healthz")
    def healthz(self, request):
        return 200, {"Content-Type": "application/json"}, json.dumps({"status": "ok"})

    @http("GET", "/readyz")
    def readyz(self, request):
        # the gateway's own connection first: the broker may be back while it is still reconnecting
        checks = {"rpc_client": self.rpc.connected}
        try:
            with Connection(settings().amqp_uri, connect_timeout=2) as conn:
                channel = conn.channel()
                checks["broker"] = True
                for service in expected_services():
                    try:
                        _, _, consumers = channel.queue_declare(queue=f"rpc-{service}", passive=True)
                        checks[service] = consumers > 0
                    except Exception:
                        channel = conn.channel()
                        checks[service] = False
        except Exception as exc:
            logs.get().warning("readiness_broker_unreachable", error=repr(exc))
            checks["broker"] = False
        ready = all(checks.values())
        return (200 if ready else 503), {"Content-Type": "application/json"}, json.dumps(
            {"ready": ready, "checks": checks}
        )

    @http("GET", "/openapi.json")
    def openapi_document(self, request):
        return 200, {"Content-Type": "application/json"}, json.dumps(openapi.document())

    @http("GET", "/metrics")
    def metrics_endpoint(self, request):
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest().decode()


@contextmanager
def _service_answer(service: str):
    """A service that does not answer, or a broker that is away, is a 503, never a hang or a 500."""
    try:
        yield
    except eventlet.Timeout:
        raise Unavailable(f"The {service} service did not answer in time.") from None
    except UnknownService:
        raise Unavailable(f"The {service} service is not available.") from None
    except (OSError, AMQPError, KombuError) as exc:
        logs.get().warning("rpc_broker_unreachable", service=service, error=repr(exc))
        raise Unavailable("The platform's message bus is not reachable; try again shortly.") from None


def _retry_after(exc: AgoraError) -> dict | None:
    """The Retry-After header of a 429, when the error says how long to wait."""
    if exc.status != 429:
        return None
    wait = next((d["retry_after"] for d in exc.details if isinstance(d, dict) and "retry_after" in d), None)
    return {"Retry-After": str(wait)} if wait is not None else None


def _client_address(request) -> str:
    """The caller's address; X-Forwarded-For counts only behind a trusted proxy (TRUST_FORWARDED_FOR=1)."""
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and settings().trust_forwarded_for:
        return forwarded.split(",")[0].strip()
    return request.remote_addr or ""


def expected_services() -> list[str]:
    return list(settings().agora_services or SERVICES)


def _validated(model: type[BaseModel], data, where: str):
    if not isinstance(data, dict):
        from services.common.errors import ValidationFailed

        raise ValidationFailed("The request is not valid.", [{"field": where, "issue": "must be a JSON object"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        from services.common.errors import ValidationFailed

        raise ValidationFailed("The request is not valid.", field_issues(exc)) from None


class _Internal(AgoraError):
    status, code = 500, "INTERNAL"
