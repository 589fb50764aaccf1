"""Accounts' handlers against the real PostgreSQL, without the bus."""
import uuid

import pytest
from sqlalchemy import text

from services.accounts import handlers, schemas
from services.common import auth
from services.common.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed

SECRET = "test-secret"


@pytest.fixture(scope="module")
def db(service_db):
    return service_db("accounts")


@pytest.fixture
def city(db):
    data = schemas.NewCity(slug=f"c-{uuid.uuid4().hex[:10]}", name="Gent", locales=["nl", "en"],
                           admin=schemas.NewUser(email="Admin@Example.org", password="secret-pw",
                                                 display_name="Admin"))
    with db.transaction() as tx:
        return handlers.create_city(tx, data)


def _user(db, city, email, name="An", **profile):
    with db.transaction() as tx:
        return handlers.register(tx, city["id"], schemas.NewUser(
            email=email, password="password-1", display_name=name, **profile))


def _outbox(db, city_id) -> list[str]:
    with db.transaction() as tx:
        return [r.type for r in tx.execute(text(
            "SELECT type FROM accounts.outbox WHERE payload->>'city_id' = :c ORDER BY id"), {"c": city_id})]


def _principal(user, role=None):
    return auth.Principal(user_id=user["id"], city_id=user["city_id"], role=role or user["role"])


def test_a_city_comes_with_its_admin_and_its_events(db, city):
    assert city["admin"]["role"] == "admin" and city["admin"]["email"] == "admin@example.org"
    assert _outbox(db, city["id"]) == ["accounts.city_created", "accounts.user_registered"]
    with db.transaction() as tx:
        assert handlers.get_city(tx, city["slug"])["id"] == city["id"]
        with pytest.raises(NotFound):
            handlers.get_city(tx, "no-such-city")
    again = schemas.NewCity(slug=city["slug"], name="Other", locales=["en"],
                            admin=schemas.NewUser(email="a@b.org", password="secret-pw", display_name="A"))
    with pytest.raises(Conflict, match="exists already"):
        with db.transaction() as tx:
            handlers.create_city(tx, again)


def test_sign_up_log_in_and_one_account_per_email(db, city):
    user = _user(db, city, "An@Example.org", birth_year=1990, district="Centrum")
    assert user["email"] == "an@example.org" and user["role"] == "citizen" and user["district"] == "Centrum"
    with pytest.raises(Conflict):
        _user(db, city, "an@example.org")
    with db.transaction() as tx:
        token = handlers.issue_token(tx, city["id"], schemas.Credentials(email="AN@example.org", password="password-1"),
                                     secret=SECRET, ttl=60)
        claims = auth.verify_token(token["access_token"], SECRET)
        assert (claims["sub"], claims["city"], claims["role"]) == (user["id"], city["id"], "citizen")
        for email, password in [("an@example.org", "wrong-password"), ("nobody@example.org", "password-1")]:
            with pytest.raises(Unauthorized):
                handlers.issue_token(tx, city["id"], schemas.Credentials(email=email, password=password),
                                     secret=SECRET, ttl=60)


def test_a_profile_change_is_an_event_and_a_password_change_is_not(db, city):
    user = _user(db, city, "b@example.org")
    me = _principal(user)
    with db.transaction() as tx:
        changed = handlers.update_me(tx, me, schemas.ProfilePatch(district="Noord", display_name=None))
    assert changed["district"] == "Noord" and changed["display_name"] == "An"
    with db.transaction() as tx:
        handlers.update_me(tx, me, schemas.ProfilePatch(password="new-password"))
        assert handlers.issue_token(tx, city["id"], schemas.Credentials(email="b@example.org", password="new-password"),
                                    secret=SECRET, ttl=60)["token_type"] == "bearer"
    assert _outbox(db, city["id"]).count("accounts.user_updated") == 1
    with db.transaction() as tx:
        assert handlers.get_me(tx, me)["district"] == "Noord"
        stranger = auth.Principal(user_id=uuid.uuid4(), city_id=city["id"], role="citizen")
        with pytest.raises(NotFound):
            handlers.get_me(tx, stranger)


def test_roles_are_set_within_the_city_only(db, city):
    user = _user(db, city, "c@example.org")
    admin = _principal(city["admin"])
    with db.transaction() as tx:
        assert handlers.set_role(tx, admin, user["id"], schemas.RoleChange(role="moderator"))["role"] == "moderator"
        for unknown in (str(uuid.uuid4()), "not-a-uuid"):
            with pytest.raises(NotFound):
                handlers.set_role(tx, admin, unknown, schemas.RoleChange(role="admin"))
    other_admin = auth.Principal(user_id=city["admin"]["id"], city_id=str(uuid.uuid4()), role="admin")
    with pytest.raises(NotFound):
        with db.transaction() as tx:
            handlers.set_role(tx, other_admin, user["id"], schemas.RoleChange(role="admin"))
    with pytest.raises(Forbidden):
        auth.Principal(user_id=user["id"], city_id=city["id"], role="citizen").require("admin")
    assert _outbox(db, city["id"])[-1] == "accounts.role_changed"


def test_the_users_of_a_city_page_by_page_by_role_and_search(db, city):
    made = [_user(db, city, f"user{i}@example.org", name=f"Person {i}") for i in range(5)]
    _user(db, city, "x_y%z@example.org", name="Under_score")
    with db.transaction() as tx:
        handlers.set_role(tx, _principal(city["admin"]), made[2]["id"], schemas.RoleChange(role="moderator"))
    seen, cursor = [], None
    while True:
        with db.transaction() as tx:
            page = handlers.list_users(tx, city["id"], schemas.UserQuery(limit=2, cursor=cursor))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [u["id"] for u in seen] == [city["admin"]["id"]] + [u["id"] for u in made] + [seen[-1]["id"]]
    assert set(seen[0]) == {"id", "display_name", "email", "role", "created_at"}
    with db.transaction() as tx:
        assert [u["id"] for u in handlers.list_users(tx, city["id"], schemas.UserQuery(role="moderator"))["items"]] \
            == [made[2]["id"]]
        found = handlers.list_users(tx, city["id"], schemas.UserQuery(q="PERSON 3"))["items"]
        assert [u["email"] for u in found] == ["user3@example.org"]
        assert [u["display_name"] for u in handlers.list_users(tx, city["id"], schemas.UserQuery(q="_"))["items"]] \
            == ["Under_score"]
        assert handlers.list_users(tx, str(uuid.uuid4()), schemas.UserQuery())["items"] == []
        with pytest.raises(ValidationFailed):
            handlers.list_users(tx, city["id"], schemas.UserQuery(cursor="bm90LWEtY3Vyc29y"))


def test_profiles_and_contacts_for_other_services(db, city):
    user = _user(db, city, "d@example.org", gender="female", locale="nl")
    with db.transaction() as tx:
        profiles = handlers.get_profiles(tx, city["id"], [user["id"], "junk", str(uuid.uuid4())])
        assert [(p["user_id"], p["gender"]) for p in profiles] == [(user["id"], "female")]
        assert "email" not in profiles[0]
        assert handlers.get_contacts(tx, city["id"], [user["id"]]) == [
            {"user_id": user["id"], "email": "d@example.org", "display_name": "An", "locale": "nl"}]
        assert handlers.get_profiles(tx, str(uuid.uuid4()), [user["id"]]) == []
        assert handlers.get_contacts(tx, city["id"], []) == []
