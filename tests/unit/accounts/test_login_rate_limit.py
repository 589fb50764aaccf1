"""The gateway's answer to a rate limit: a 429 with Retry-After when the error says how long, and a
429 still (not a 500) when it does not."""
import json

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import service as gateway
from services.common.errors import RateLimited


def _answer(monkeypatch, exc):
    def refuse(self, route, request, params):
        raise exc

    monkeypatch.setattr(gateway.GatewayService, "_dispatch", refuse)
    request = Request(EnvironBuilder(method="POST", path="/api/v1/cities/gent/auth/token").get_environ())
    return gateway.GatewayService().api(request, "cities/gent/auth/token")


def test_a_rate_limit_with_a_wait_answers_429_with_retry_after(monkeypatch):
    response = _answer(monkeypatch, RateLimited("Too many.", [{"retry_after": 7}]))
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert json.loads(response.get_data())["error"]["code"] == "RATE_LIMITED"


def test_a_rate_limit_without_details_is_a_429_without_retry_after(monkeypatch):
    response = _answer(monkeypatch, RateLimited("Too many."))
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert json.loads(response.get_data())["error"] == {"code": "RATE_LIMITED", "message": "Too many."}
