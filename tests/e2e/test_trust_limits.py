"""Login and sign-up limits: per account across addresses, shared by gateway replicas through Redis,
per replica (and said loudly) when Redis is away; the client address behind trusted proxies."""
import re
import shutil
import subprocess
import time
import uuid

import pytest
import redis
import requests

from cluster import Proc
from support import Api, eventually, free_port


def _gateway(environment, tmp_path, name, **env):
    extra = {"TRUSTED_PROXIES": "127.0.0.1", "LOGIN_ATTEMPTS_PER_ACCOUNT": "5", "LOGIN_ATTEMPTS_PER_ADDRESS": "8",
             "SIGNUPS_PER_ADDRESS": "3", "REDIS_PREFIX": f"{environment.name}-{name}", **env}
    return Proc(environment, ["gateway.service"], expected=["accounts"], extra_env=extra, log_dir=tmp_path,
                name=name).start()


@pytest.fixture(scope="module")
def redis_url():
    """A Redis of its own on a free port (the machine's shared one when redis-server is not installed)."""
    if not shutil.which("redis-server"):
        yield "redis://127.0.0.1:6379/0"
        return
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_timeout=1).ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def replicas(platform, environment, redis_url, tmp_path_factory):
    """Two gateway replicas sharing one Redis, in front of the session's accounts service."""
    logs = tmp_path_factory.mktemp("replicas")
    prefix = f"limits-{uuid.uuid4().hex[:6]}"
    pair = [_gateway(environment, logs, f"gw{i}", REDIS_PREFIX=prefix, REDIS_URL=redis_url) for i in (1, 2)]
    apis = [Api(p.url) for p in pair]
    for api, p in zip(apis, pair):
        api.ops_port = p.ops_port
    yield apis
    for p in pair:
        p.stop()


def _fallbacks(api) -> float:
    text = requests.get(f"http://127.0.0.1:{api.ops_port}/metrics", timeout=5).text
    found = re.search(r"^agora_rate_limit_fallback_total ([0-9.]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _login(api, slug, email, address, password="wrong-password-1"):
    return api.post(f"/cities/{slug}/auth/token", json={"email": email, "password": password},
                    headers={"X-Forwarded-For": f"203.0.113.9, {address}"})


def test_the_account_limit_holds_across_addresses_and_replicas(api, city, replicas):
    user = api.new_user(city)
    codes = [_login(replicas[n % 2], city["slug"], user["email"], f"198.51.100.{n}").status_code for n in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429], codes
    r = _login(replicas[0], city["slug"], user["email"], "192.0.2.200", password="citizen-password-1")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # another account is not limited by it
    other = api.new_user(city)
    assert _login(replicas[1], city["slug"], other["email"], "198.51.100.1").status_code == 401
    assert [_fallbacks(r) for r in replicas] == [0, 0]  # counted in Redis, not by each replica


def test_the_address_limit_uses_the_right_most_untrusted_address(api, city, replicas):
    users = [api.new_user(city) for _ in range(3)]
    address = "198.51.100.77"
    codes = []
    for n in range(10):
        # the client writes a new left-most entry each time; the proxy's entry stays the same
        r = replicas[n % 2].post(f"/cities/{city['slug']}/auth/token",
                                 json={"email": users[n % 3]["email"], "password": "wrong-password-1"},
                                 headers={"X-Forwarded-For": f"10.9.9.{n}, {address}"})
        codes.append(r.status_code)
    assert codes[:8] == [401] * 8 and codes[8:] == [429, 429], codes


def test_sign_up_is_limited_per_address(city, replicas):
    def signup(api, address, **headers):
        return api.post(f"/cities/{city['slug']}/users", headers={"X-Forwarded-For": address, **headers},
                        json={"email": f"s-{uuid.uuid4().hex[:8]}@example.org", "password": "a-long-enough-password",
                              "display_name": "S"})

    codes = [signup(replicas[n % 2], "198.51.100.50").status_code for n in range(4)]
    assert codes == [201, 201, 201, 429], codes
    assert signup(replicas[0], "198.51.100.51").status_code == 201
    # an operator's loader with the platform key is not limited
    from support import PLATFORM_KEY

    assert signup(replicas[1], "198.51.100.50", **{"X-Platform-Key": PLATFORM_KEY}).status_code == 201


def test_without_redis_each_replica_limits_on_its_own_and_says_so(api, city, environment, tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    gw = _gateway(environment, tmp_path, "no-redis", REDIS_URL=dead)
    try:
        alone = Api(gw.url)
        user = api.new_user(city)
        codes = [_login(alone, city["slug"], user["email"], f"198.51.100.{n}").status_code for n in range(6)]
        assert codes == [401] * 5 + [429], codes
        eventually(lambda: "rate_limit_redis_unreachable" in gw.log_path.read_text(errors="replace"), timeout=5)
        metrics = requests.get(f"http://127.0.0.1:{gw.ops_port}/metrics", timeout=5).text
        fallbacks = re.search(r"^agora_rate_limit_fallback_total ([0-9.]+)$", metrics, re.M)
        assert fallbacks and float(fallbacks.group(1)) >= 6, fallbacks
    finally:
        gw.stop()
