"""Weak passwords are refused with a 422 naming the password and why: at sign-up, for a city's first
admin and when changing one's password."""
import uuid

import pytest

from support import PLATFORM_KEY


def _issue(r):
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert [d["field"] for d in details] == ["password"], details
    return details[0]["issue"]


@pytest.mark.parametrize("password, display_name, why", [
    ("nine-char", "Ann", "at least 10 characters"),
    ("1234567890", "Ann", "most common"),
    ("qwertyuiop", "Ann", "most common"),
    ("Password123", "Ann", "most common"),
    ("{email}", "Ann", "e-mail address or name"),
    ("Ann Karenina", "ann karenina", "e-mail address or name"),
])
def test_weak_passwords_are_refused_at_sign_up(api, city, password, display_name, why):
    email = f"ann-{uuid.uuid4().hex[:8]}@example.org"
    body = {"email": email, "password": password.format(email=email), "display_name": display_name}
    assert why in _issue(api.post(f"/cities/{city['slug']}/users", json=body))
    r = api.post(f"/cities/{city['slug']}/auth/token", json={"email": email, "password": body["password"]})
    assert r.status_code == 401  # no account was made


def test_a_weak_password_is_refused_for_a_first_admin_and_a_change(api, city):
    body = {"slug": f"c-{uuid.uuid4().hex[:8]}", "name": "Weak", "locales": ["en"],
            "admin": {"email": "admin@weak.example.org", "password": "password12", "display_name": "A"}}
    r = api.post("/cities", json=body, headers={"X-Platform-Key": PLATFORM_KEY})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "admin.password"
    user = api.new_user(city)
    assert "most common" in _issue(api.patch(f"/cities/{city['slug']}/users/me", token=user["token"],
                                             json={"password": "iloveyou12"}))
    assert "e-mail" in _issue(api.patch(f"/cities/{city['slug']}/users/me", token=user["token"],
                                        json={"password": user["email"]}))
    r = api.patch(f"/cities/{city['slug']}/users/me", token=user["token"], json={"password": "a quite long phrase"})
    assert r.status_code == 200
    assert api.login(city["slug"], user["email"], "a quite long phrase")


def test_a_good_password_is_accepted(api, city):
    body = {"email": f"b-{uuid.uuid4().hex[:8]}@example.org", "password": "correct horse battery", "display_name": "B"}
    assert api.post(f"/cities/{city['slug']}/users", json=body).status_code == 201
