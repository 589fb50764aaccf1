"""Roles and users are checked against accounts on every request with a token, not taken from the
token: a demotion takes effect at once on every gateway replica, a token of a user who does not exist
(or no longer does) is 401 and earns nothing."""
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from cluster import Proc, minted_token
from support import Api, eventually


def _project(api, city, token=None):
    return api.post(f"/cities/{city['slug']}/projects", token=token or city["admin_token"],
                    json={"title": {"en": "Parks"}, "method": "ideation", "status": "active"})


def _role(api, city, token, user_id, role):
    return api.put(f"/cities/{city['slug']}/users/{user_id}/role", token=token, json={"role": role})


def test_a_demoted_admin_cannot_promote_itself_back_with_its_old_token(api, city):
    deputy = api.promote(city, api.new_user(city), "admin")  # its token says admin
    assert _project(api, city, deputy["token"]).status_code == 201
    assert _role(api, city, city["admin_token"], deputy["id"], "citizen").status_code == 200
    r = _role(api, city, deputy["token"], deputy["id"], "admin")
    assert r.status_code == 403, r.text
    assert _project(api, city, deputy["token"]).status_code == 403
    assert api.get(f"/cities/{city['slug']}/users/me", token=deputy["token"]).json()["role"] == "citizen"


def test_a_promotion_counts_at_once_with_the_token_held_already(api, city):
    citizen = api.new_user(city)
    flags = f"/cities/{city['slug']}/moderation/flags"
    assert api.get(flags, token=citizen["token"]).status_code == 403
    assert _role(api, city, city["admin_token"], citizen["id"], "moderator").status_code == 200
    assert api.get(flags, token=citizen["token"]).status_code == 200


def test_a_token_of_an_unknown_user_is_401_and_earns_nothing(api, city):
    author = api.new_user(city)
    project = _project(api, city).json()
    idea = api.post(f"/cities/{city['slug']}/projects/{project['id']}/ideas", token=author["token"],
                    json={"title": "Benches", "body": "By the river."}).json()
    ghost = str(uuid.uuid4())
    for role in ("citizen", "admin"):
        token = minted_token(city, ghost, role=role)
        assert api.get(f"/cities/{city['slug']}/users/me", token=token).status_code == 401
        r = api.post(f"/cities/{city['slug']}/projects/{project['id']}/ideas", token=token,
                     json={"title": "Ghost idea", "body": "Nobody wrote this."})
        assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
        assert api.put(f"/cities/{city['slug']}/ideas/{idea['id']}/vote", token=token,
                       json={"value": "up"}).status_code == 401
        assert _project(api, city, token).status_code == 401
    assert api.get(f"/cities/{city['slug']}/ideas/{idea['id']}/vote").json()["up_votes"] == 0
    board = api.get(f"/cities/{city['slug']}/leaderboard?limit=100").json()["items"]
    assert ghost not in {row["user"]["id"] for row in board}
    ideas = api.get(f"/cities/{city['slug']}/projects/{project['id']}/ideas").json()["items"]
    assert [i["title"] for i in ideas] == ["Benches"]


def test_a_token_of_another_citys_user_names_no_user_here(api, city):
    other = api.new_city()
    stranger = api.new_user(other)
    token = minted_token(city, stranger["id"])  # signed for this city, user of the other
    assert api.get(f"/cities/{city['slug']}/users/me", token=token).status_code == 401


def test_a_removed_user_is_401_within_the_cache_time(api, city, environment):
    user = api.new_user(city)
    assert api.get(f"/cities/{city['slug']}/users/me", token=user["token"]).status_code == 200
    engine = create_engine(environment.database_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM accounts.users WHERE id = :u"), {"u": user["id"]})
    engine.dispose()
    started = time.monotonic()
    eventually(lambda: api.get(f"/cities/{city['slug']}/users/me", token=user["token"]).status_code == 401,
               timeout=10, interval=0.2)
    assert time.monotonic() - started < 5 + 1  # PRINCIPAL_CACHE_SECONDS


@pytest.fixture(scope="module")
def replicas(platform, environment, tmp_path_factory):
    """Two more gateways, remembering principals for a minute: only the event can make them forget."""
    logs = tmp_path_factory.mktemp("role-replicas")
    pair = [Proc(environment, ["gateway.service"], expected=["accounts"], log_dir=logs, name=f"roles-gw{i}",
                 extra_env={"PRINCIPAL_CACHE_SECONDS": "60"}).start() for i in (1, 2)]
    yield [Api(p.url) for p in pair]
    for p in pair:
        p.stop()


def test_a_demotion_through_one_replica_counts_at_once_on_the_others(api, city, replicas):
    deputy = api.promote(city, api.new_user(city), "admin")
    flags = f"/cities/{city['slug']}/moderation/flags"
    for replica in replicas:
        assert replica.get(flags, token=deputy["token"]).status_code == 200  # remembered as admin
    assert _role(replicas[0], city, city["admin_token"], deputy["id"], "citizen").status_code == 200
    assert replicas[0].get(flags, token=deputy["token"]).status_code == 403
    started = time.monotonic()
    eventually(lambda: replicas[1].get(flags, token=deputy["token"]).status_code == 403, timeout=5, interval=0.02)
    assert time.monotonic() - started < 2  # the event, not the minute of the cache
    assert api.get(flags, token=deputy["token"]).status_code == 403  # and the session's gateway
