"""Input no route could mean, from anyone: refused at the gateway with the JSON envelope, never a 500
or an HTML page, and nothing changes."""
import json
import socket
import uuid
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from support import PLATFORM_KEY


def _error(r, *statuses):
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["error"]["code"] and body["error"]["message"], body
    return body["error"]


def _raw(platform, request: bytes) -> tuple[int, dict, bytes]:
    """One request written to the socket as it is, and the answer read to the end."""
    host = urlsplit(platform.url)
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_deeply_nested_json_is_400(api, city):
    user = api.new_user(city)
    deep = "[" * 100_000 + "]" * 100_000
    for body in (deep, '{"email": ' + deep + "}", json.dumps({"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})):
        r = api.post(f"/cities/{city['slug']}/users", data=body, headers={"Content-Type": "application/json"})
        _error(r, 400)
        r = api.patch(f"/cities/{city['slug']}/users/me", token=user["token"], data=body,
                      headers={"Content-Type": "application/json"})
        _error(r, 400)


def test_nul_in_a_text_field_is_422_and_creates_nothing(api, city):
    slug = city["slug"]
    email = f"nul-{uuid.uuid4().hex[:8]}@example.org"
    r = api.post(f"/cities/{slug}/users", json={"email": email[:3] + "\u0000" + email[3:],
                                                "password": "a-long-enough-password", "display_name": "N"})
    error = _error(r, 400, 422)
    r = api.post(f"/cities/{slug}/users", json={"email": email, "password": "a-long-enough-password",
                                                "display_name": "N\u0000ul"})
    error = _error(r, 422)
    assert error["details"] == [{"field": "display_name", "issue": "contains a NUL character"}]
    r = api.post(f"/cities/{slug}/auth/token", json={"email": email, "password": "a-long-enough-password"})
    assert r.status_code == 401  # no account was made
    user = api.new_user(city)
    r = api.patch(f"/cities/{slug}/users/me", token=user["token"], json={"district": "Noord\u0000"})
    _error(r, 422)
    assert api.get(f"/cities/{slug}/users/me", token=user["token"]).json()["district"] is None
    r = api.post(f"/cities/{slug}/projects", token=city["admin_token"],
                 json={"title": {"en": "Parks\u0000"}, "method": "ideation"})
    _error(r, 422)
    r = api.post(f"/cities/{slug}/auth/token", json={"email\u0000": "x@example.org", "password": "p"})
    _error(r, 422)


def test_nul_in_a_path_segment_or_query_is_4xx(api, city):
    _error(api.get("/cities/alpha%00"), 400)
    _error(api.get(f"/cities/{city['slug']}/projects/%00"), 400)
    _error(api.get(f"/cities/{city['slug']}/projects", params={"q": "\u0000"}), 400, 422)
    _error(api.get(f"/cities/{city['slug']}/projects", params={"status\u0000": "active"}), 400, 422)
    _error(api.get(f"/cities/{city['slug']}/leaderboard?period=%00"), 400, 422)


def test_options_and_control_characters_in_paths_get_the_json_envelope(api, platform, city):
    r = requests.options(f"{api.base}/cities/{city['slug']}", timeout=10)
    _error(r, 405)
    for path in ("/cities/a%0Ab", "/cities/a%01b", "/cities/%7F", "/%0A"):
        _error(api.get(path), 400, 404)
    _error(requests.get(platform.url + "/not-the-api%0A", timeout=10), 404)
    _error(requests.delete(platform.url + "/healthz", timeout=10), 405)
    status, headers, body = _raw(platform, b"GET /api/v1/cities/a\x01b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert 400 <= status < 500 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"]
    status, headers, body = _raw(platform, b"GARBAGE\r\n\r\n")
    assert status == 400 and json.loads(body)["error"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("size", [9_000, 100_000])
def test_a_huge_authorization_header_is_431_json(platform, city, size):
    token = "x" * size
    request = (f"GET /api/v1/cities/{city['slug']}/users/me HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n").encode()
    status, headers, body = _raw(platform, request)
    assert status == 431, (status, body[:200])
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "HEADERS_TOO_LARGE"
    assert requests.get(platform.url + "/healthz", timeout=5).status_code == 200


def test_a_token_whose_sub_is_not_a_uuid_is_401(api, city):
    from services.common.config import DEV_JWT_SECRET

    for sub in ("not-a-uuid", "1 OR 1=1", "\u0000"):
        token = jwt.encode({"sub": sub, "city": city["id"], "city_slug": city["slug"], "role": "admin",
                            "exp": 2_000_000_000}, DEV_JWT_SECRET, algorithm="HS256")
        _error(api.get(f"/cities/{city['slug']}/users/me", token=token), 401)
        _error(api.post(f"/cities/{city['slug']}/projects", token=token,
                        json={"title": {"en": "Parks"}, "method": "ideation"}), 401)


def test_metrics_are_served_on_the_ops_port_only(api, platform):
    api.get("/cities/none-such")
    r = requests.get(platform.url + "/metrics", timeout=5)
    _error(r, 404)
    ops = requests.get(f"http://127.0.0.1:{platform.ops_port}/metrics", timeout=5)
    assert ops.status_code == 200 and "agora_http_request_seconds" in ops.text


def test_the_platform_key_route_refuses_nul_too(api):
    body = {"slug": "nul-city", "name": "N\u0000", "locales": ["en"],
            "admin": {"email": "a@example.org", "password": "a-long-enough-password", "display_name": "A"}}
    _error(api.post("/cities", json=body, headers={"X-Platform-Key": PLATFORM_KEY}), 422)
    _error(api.get("/cities/nul-city"), 404)


def test_a_too_long_request_line_is_414_json(platform):
    status, headers, body = _raw(platform, b"GET /api/v1/cities/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "URI_TOO_LONG"
