"""Cities and accounts through the gateway, on the real broker and database."""
import time
import uuid

import jwt

from support import PLATFORM_KEY


def test_city_signup_login_and_profile(api, city):
    slug = city["slug"]
    r = api.get(f"/cities/{slug}")
    assert r.status_code == 200 and r.json()["locales"] == ["en", "nl"]
    user = api.new_user(city, birth_year=1990, gender="female", district="Centrum", locale="nl")
    assert "password" not in user and "password_hash" not in user
    me = api.get(f"/cities/{slug}/users/me", token=user["token"]).json()
    assert me["birth_year"] == 1990 and me["district"] == "Centrum" and me["role"] == "citizen"
    r = api.patch(f"/cities/{slug}/users/me", token=user["token"], json={"district": "Noord"})
    assert r.status_code == 200 and r.json()["district"] == "Noord"
    assert api.get(f"/cities/{slug}/users/me", token=user["token"]).json()["district"] == "Noord"


def test_duplicate_email_is_conflict(api, city):
    body = {"email": "Same@Example.org", "password": "long-enough-1", "display_name": "A"}
    assert api.post(f"/cities/{city['slug']}/users", json=body).status_code == 201
    r = api.post(f"/cities/{city['slug']}/users", json={**body, "email": "same@example.org"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"


def test_same_email_in_two_cities_is_two_accounts(api, city):
    other = api.new_city()
    body = {"email": "twice@example.org", "password": "long-enough-1", "display_name": "A"}
    assert api.post(f"/cities/{city['slug']}/users", json=body).status_code == 201
    assert api.post(f"/cities/{other['slug']}/users", json=body).status_code == 201


def test_city_creation_needs_the_platform_key(api):
    body = {"slug": "nokey", "name": "x", "locales": ["en"],
            "admin": {"email": "a@b.org", "password": "long-enough-1", "display_name": "A"}}
    assert api.post("/cities", json=body).status_code == 403
    assert api.post("/cities", json=body, headers={"X-Platform-Key": "wrong"}).status_code == 403
    assert api.get("/cities/nokey").status_code == 404


def test_duplicate_city_slug_is_conflict(api, city):
    body = {"slug": city["slug"], "name": "x", "locales": ["en"],
            "admin": {"email": "a@b.org", "password": "long-enough-1", "display_name": "A"}}
    r = api.post("/cities", json=body, headers={"X-Platform-Key": PLATFORM_KEY})
    assert r.status_code == 409


def test_bad_input_gets_api_errors_and_changes_nothing(api, city):
    slug = city["slug"]
    r = api.post(f"/cities/{slug}/users", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BAD_REQUEST"
    r = api.post(f"/cities/{slug}/users", json={"email": "x@example.org", "password": 5})
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"password", "display_name"} <= fields
    r = api.post(f"/cities/{slug}/users", json={"email": "not-an-email", "password": "long-enough-1",
                                                "display_name": "A", "gender": "robot", "birth_year": 1700})
    assert r.status_code == 422
    assert {"email", "gender", "birth_year"} <= {d["field"] for d in r.json()["error"]["details"]}
    r = api.post(f"/cities/{slug}/users", json=["a", "list"])
    assert r.status_code == 422
    big = "x" * (10 * 1024 * 1024)
    r = api.post(f"/cities/{slug}/users", data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = api.post("/cities/no-such-city/users", json={"email": "x@example.org", "password": "long-enough-1",
                                                      "display_name": "A"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    # none of the rejected sign-ups exists
    r = api.post(f"/cities/{slug}/auth/token", json={"email": "x@example.org", "password": "long-enough-1"})
    assert r.status_code == 401


def test_tokens_forged_expired_and_wrong_scheme_are_401(api, city):
    slug = city["slug"]
    claims = jwt.decode(city["admin_token"], options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "admin"}, "not-the-secret", algorithm="HS256")
    assert api.get(f"/cities/{slug}/users/me", token=forged).status_code == 401
    from services.common.config import DEV_JWT_SECRET

    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, DEV_JWT_SECRET, algorithm="HS256")
    r = api.get(f"/cities/{slug}/users/me", token=expired)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    assert api.get(f"/cities/{slug}/users/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get(f"/cities/{slug}/users/me").status_code == 401


def test_a_token_of_one_city_reads_and_writes_nothing_of_another(api, city):
    other = api.new_city()
    user = api.new_user(city)
    r = api.get(f"/cities/{other['slug']}/users/me", token=user["token"])
    assert r.status_code == 403
    r = api.patch(f"/cities/{other['slug']}/users/me", token=user["token"], json={"district": "x"})
    assert r.status_code == 403
    # the admin of one city cannot promote anyone in another
    victim = api.new_user(other)
    r = api.put(f"/cities/{other['slug']}/users/{victim['id']}/role", token=city["admin_token"], json={"role": "admin"})
    assert r.status_code == 403
    r = api.put(f"/cities/{city['slug']}/users/{victim['id']}/role", token=city["admin_token"], json={"role": "admin"})
    assert r.status_code == 404
    me = api.get(f"/cities/{other['slug']}/users/me", token=victim["token"]).json()
    assert me["role"] == "citizen"


def test_roles_only_admins_change_them(api, city):
    user = api.new_user(city)
    other = api.new_user(city)
    r = api.put(f"/cities/{city['slug']}/users/{other['id']}/role", token=user["token"], json={"role": "admin"})
    assert r.status_code == 403
    r = api.put(f"/cities/{city['slug']}/users/{other['id']}/role", token=city["admin_token"], json={"role": "boss"})
    assert r.status_code == 422
    r = api.put(f"/cities/{city['slug']}/users/{uuid.uuid4()}/role", token=city["admin_token"], json={"role": "moderator"})
    assert r.status_code == 404
    api.promote(city, other, "moderator")
    assert api.get(f"/cities/{city['slug']}/users/me", token=other["token"]).json()["role"] == "moderator"


def test_wrong_password_and_login_rate_limit(api, city):
    slug = city["slug"]
    user = api.new_user(city)
    codes = [api.post(f"/cities/{slug}/auth/token", json={"email": user["email"], "password": "wrong-password"}).status_code
             for _ in range(12)]
    assert codes[0] == 401
    assert 429 in codes
    r = api.post(f"/cities/{slug}/auth/token", json={"email": user["email"], "password": "wrong-password"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_health_readiness_and_openapi(api, platform):
    import requests

    assert requests.get(platform.url + "/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(platform.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["checks"]["accounts"] is True
    doc = requests.get(platform.url + "/openapi.json", timeout=5).json()
    assert "/api/v1/cities/{city}/users" in doc["paths"]
    assert doc["paths"]["/api/v1/cities/{city}/users"]["post"]["requestBody"]
    ops = requests.get(f"http://127.0.0.1:{platform.ops_port}/metrics", timeout=5).text
    assert "agora_entrypoint_seconds" in ops and "agora_http_request_seconds" in ops


def test_unknown_route_is_404_json(api):
    r = api.get("/nothing/here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
