"""With WEBHOOK_ALLOW_PRIVATE=0 (the production default) webhooks may not point at loopback, private,
link-local or metadata addresses. A platform of its own, in a vhost and database of its own."""
import pytest

from support import Api, Environment, Platform


@pytest.fixture(scope="module")
def strict_api(tmp_path_factory):
    environment = Environment()
    platform = Platform(environment, ["accounts", "notifications"], extra_env={"WEBHOOK_ALLOW_PRIVATE": "0"},
                        log_dir=tmp_path_factory.mktemp("strict-logs"), name="strict").start()
    yield Api(platform.url)
    platform.stop()
    environment.close()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
    "http://192.168.0.10/hook", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://2130706433/hook",
    "http://[2002:7f00:1::]/hook", "http://[::7f00:1]/hook", "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "http://[fd00::1]/hook",
])
def test_private_loopback_and_link_local_targets_are_refused(strict_api, url):
    city = getattr(test_private_loopback_and_link_local_targets_are_refused, "city", None)
    if city is None:
        city = test_private_loopback_and_link_local_targets_are_refused.city = strict_api.new_city()
    r = strict_api.post(f"/cities/{city['slug']}/webhooks", token=city["admin_token"],
                        json={"url": url, "events": ["ideas.idea_created"]})
    assert r.status_code == 422, r.text
    detail = r.json()["error"]["details"][0]
    assert detail["field"] == "url" and "may not reach" in detail["issue"]
