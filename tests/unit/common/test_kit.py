"""The common kit's pure parts: cursors, tokens, passwords, rate limits, demographics, configuration."""
import time
import uuid
from datetime import date

import jwt
import pytest

from gateway.ratelimit import RateLimiter
from services.common import auth, pagination
from services.common.config import DEV_JWT_SECRET, Settings
from services.common.demographics import age_group, group_of
from services.common.errors import Forbidden, Unauthorized, ValidationFailed

SECRET = "s3cret"


def test_cursor_round_trip_and_garbage():
    key = ["2026-01-01T00:00:00+00:00", str(uuid.uuid4()), 12]
    assert pagination.decode(pagination.encode(key)) == key
    assert pagination.decode(None) is None
    for bad in ("%%%", "bm90IGpzb24", pagination.encode({"a": 1})):  # not base64, not JSON, not a list
        with pytest.raises(ValidationFailed):
            pagination.decode(bad)


def test_page_sets_next_cursor_only_when_more():
    rows = [{"id": i} for i in range(6)]
    page = pagination.page(rows, 5, lambda r: [r["id"]])
    assert [r["id"] for r in page["items"]] == [0, 1, 2, 3, 4]
    assert pagination.decode(page["next_cursor"]) == [4]
    assert pagination.page(rows[:3], 5, lambda r: [r["id"]])["next_cursor"] is None


@pytest.mark.parametrize("bad", [0, 101, "x", -1])
def test_limit_bounds(bad):
    with pytest.raises(ValidationFailed):
        pagination.limit_of(bad)
    assert pagination.limit_of(None) == 20


def test_token_round_trip_and_tampering():
    uid, cid = uuid.uuid4(), uuid.uuid4()
    token = auth.issue_token(user_id=uid, city_id=cid, city_slug="gent", role="moderator", secret=SECRET, ttl=60)
    claims = auth.verify_token(token, SECRET)
    assert claims["sub"] == str(uid) and claims["city"] == str(cid) and claims["role"] == "moderator"
    with pytest.raises(Unauthorized):
        auth.verify_token(token, "other-secret")
    with pytest.raises(Unauthorized):
        auth.verify_token(token[:-4] + "abcd", SECRET)
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        auth.verify_token(expired, SECRET)
    unknown_role = jwt.encode({**claims, "role": "root"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        auth.verify_token(unknown_role, SECRET)
    none_alg = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(Unauthorized):
        auth.verify_token(none_alg, SECRET)


def test_principal_roles_and_city():
    p = auth.Principal(user_id=uuid.uuid4(), city_id=uuid.uuid4(), role="moderator")
    assert p.at_least("citizen") and p.at_least("moderator") and not p.at_least("admin")
    with pytest.raises(Forbidden):
        p.require("admin")
    with pytest.raises(Forbidden):
        p.require_city(uuid.uuid4())
    assert p.require_city(p.city_id) is p


def test_password_hashing():
    h = auth.hash_password("correct horse")
    assert h.startswith("$argon2id$") and "correct horse" not in h
    assert auth.verify_password(h, "correct horse")
    assert not auth.verify_password(h, "wrong")
    assert not auth.verify_password("not-a-hash", "x")


def test_rate_limiter_refills():
    limiter = RateLimiter(capacity=3, per_seconds=60)
    assert [limiter.hit("k", now=0) for _ in range(3)] == [0, 0, 0]
    wait = limiter.hit("k", now=0)
    assert wait == pytest.approx(20, rel=0.01)
    assert limiter.hit("other", now=0) == 0
    assert limiter.hit("k", now=21) == 0


def test_rate_limiter_forgets_oldest_keys():
    limiter = RateLimiter(capacity=1, per_seconds=60, max_keys=2)
    for key in "abc":
        limiter.hit(key, now=0)
    assert limiter.hit("a", now=0) == 0  # "a" was evicted, so it starts full again


def test_age_groups():
    today = date(2026, 6, 1)
    assert [age_group(y, today) for y in (2005, 2001, 1992, 1977, 1962, 1961)] == [
        "under_25", "25-34", "25-34", "35-49", "50-64", "65+"
    ]
    assert age_group(None) == "unknown"
    assert group_of({"gender": "female"}, "gender") == "female"
    assert group_of({}, "district") == "unknown"
    with pytest.raises(ValueError):
        group_of({}, "shoe_size")


def test_production_refuses_development_secrets():
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        Settings.from_env({"AGORA_ENV": "production"})
    with pytest.raises(RuntimeError, match="PLATFORM_ADMIN_KEY"):
        Settings.from_env({"AGORA_ENV": "production", "JWT_SECRET": "x" * 32})
    s = Settings.from_env({"AGORA_ENV": "production", "JWT_SECRET": "x" * 32, "PLATFORM_ADMIN_KEY": "k" * 20})
    assert s.production and s.jwt_secret != DEV_JWT_SECRET
    assert Settings.from_env({"SMTP_TLS": "true", "WEBHOOK_ALLOW_PRIVATE": "1"}).smtp_tls


def test_domain_errors_cross_rpc_with_their_type_and_typed_details():
    from nameko.exceptions import deserialize, serialize

    sent = ValidationFailed("The file is not valid.", [{"field": "body", "issue": "truncated", "line": 20}])
    received = deserialize(serialize(sent))
    assert type(received) is ValidationFailed
    assert received.details == [{"field": "body", "issue": "truncated", "line": 20}]
    assert received.to_dict() == {"code": "VALIDATION_FAILED", "message": "The file is not valid.",
                                  "details": [{"field": "body", "issue": "truncated", "line": 20}]}


def test_a_remembered_token_is_still_refused_once_expired(monkeypatch):
    token = auth.issue_token(user_id=uuid.uuid4(), city_id=uuid.uuid4(), city_slug="x", role="citizen",
                             secret=SECRET, ttl=60)
    first = auth.verify_token_cached(token, SECRET)
    assert auth.verify_token_cached(token, SECRET) == first
    with pytest.raises(Unauthorized):
        auth.verify_token_cached(token, "other-secret")
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(Unauthorized):
        auth.verify_token_cached(token, SECRET)


def test_every_setting_comes_from_the_one_settings_object():
    s = Settings.from_env({})
    assert (s.db_prepared_statements, s.analytics_rebuild_check_seconds, s.flag_threshold, s.agora_services) == \
        (True, 10.0, 3, ())
    assert (s.webhook_timeout_seconds, s.webhook_retry_base_seconds, s.webhook_retry_max_seconds,
            s.webhook_max_attempts, s.webhook_concurrency, s.webhook_per_subscription, s.mail_poll_seconds,
            s.mail_max_attempts, s.digest_hour_utc, s.digest_check_seconds) == (5.0, 10.0, 21600.0, 8, 20, 4, 1.0, 6, 7, 300.0)
    s = Settings.from_env({"DB_PREPARED_STATEMENTS": "off", "ANALYTICS_REBUILD_CHECK_SECONDS": "0.5",
                           "FLAG_THRESHOLD": "5", "AGORA_SERVICES": "accounts, ideas,", "WEBHOOK_MAX_ATTEMPTS": "2",
                           "DIGEST_HOUR_UTC": "9"})
    assert (s.db_prepared_statements, s.analytics_rebuild_check_seconds, s.flag_threshold, s.agora_services,
            s.webhook_max_attempts, s.digest_hour_utc) == (False, 0.5, 5, ("accounts", "ideas"), 2, 9)
    for bad in ("0", "-2", "many"):  # a threshold that would hide everything, or none, is the default
        assert Settings.from_env({"FLAG_THRESHOLD": bad}).flag_threshold == 3
