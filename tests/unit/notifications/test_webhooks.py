"""Webhook rules: event types, targets, signatures, retries."""
import hashlib
import hmac

import pytest

from services.notifications import webhooks as w

TYPES = {"ideas.idea_created", "ideas.idea_status_changed", "ideas.comment_created", "voting.vote_cast",
         "gamification.level_up"}


def test_short_names_map_to_bus_names():
    short = w.aliases(TYPES)
    assert short["idea.created"] == "ideas.idea_created"
    assert short["idea.status_changed"] == "ideas.idea_status_changed"
    assert short["vote.cast"] == "voting.vote_cast" and short["level.up"] == "gamification.level_up"


def test_ambiguous_short_names_are_left_out():
    assert "idea.created" not in w.aliases({"ideas.idea_created", "archive.idea_created"})


def test_requested_events_are_normalized_and_unknown_ones_named():
    patterns, issues = w.normalize_events(["idea.created", "ideas.idea_created", "voting.#", "*"], TYPES)
    assert patterns == ["ideas.idea_created", "voting.*", "*"] and issues == []
    patterns, issues = w.normalize_events(["idea.created", "ideas.nope", "nope.*", "", 3], TYPES)
    assert patterns == ["ideas.idea_created"]
    assert [i["field"] for i in issues] == ["events.1", "events.2", "events.3", "events.4"]
    assert w.normalize_events([], TYPES)[1][0]["field"] == "events"


def test_the_contract_types_are_known_even_before_their_service_declares_them():
    known = w.known_types()
    assert {"ideas.idea_created", "budgeting.results_published", "notifications.webhook_delivery_failed"} <= known


def test_matching():
    assert w.matches(["*"], "voting.vote_cast")
    assert w.matches(["voting.*"], "voting.vote_cast") and not w.matches(["voting.*"], "ideas.idea_created")
    assert w.matches(["ideas.idea_created"], "ideas.idea_created")
    assert not w.matches(["ideas.idea_created"], "ideas.idea_created_extra")


@pytest.mark.parametrize("url", ["ftp://x.org/", "not a url", "http://", "//x.org/", "http://u:p@x.org/",
                                 "https://x.org/#frag", "http://x.org:99999/", "http://x .org/", "h" * 3000, None])
def test_malformed_urls_are_refused(url):
    with pytest.raises(w.RefusedTarget):
        w.check_url(url)


def fake(addresses):
    return lambda host, port: addresses


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
                                     "::1", "fe80::1", "fc00::1", "224.0.0.1", "0.0.0.0", "240.0.0.1",
                                     "::ffff:127.0.0.1", "100.64.0.1"])
def test_private_loopback_link_local_and_reserved_targets_are_refused(address):
    with pytest.raises(w.RefusedTarget, match="may not reach"):
        w.check_target("https://hooks.example.org/x", allow_private=False, resolver=fake([address]))
    assert w.check_target("https://hooks.example.org/x", allow_private=True, resolver=fake([address])) == [address]


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(w.RefusedTarget):
        w.check_target("https://x.example.org/", False, resolver=fake(["93.184.216.34", "10.0.0.1"]))
    assert w.check_target("https://x.example.org/", False, resolver=fake(["93.184.216.34"])) == ["93.184.216.34"]


def test_ip_literals_in_legacy_forms_are_checked_as_addresses():
    for host in ("2130706433", "127.1", "0x7f.0.0.1", "[::1]"):
        with pytest.raises(w.RefusedTarget, match="may not reach"):
            w.check_target(f"http://{host}/", allow_private=False)


def test_unresolvable_hosts_are_refused():
    with pytest.raises(w.RefusedTarget, match="does not resolve"):
        w.check_target("http://no-such-host.invalid/", allow_private=True)


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = w.body_of({"b": 1, "a": "é"})
    assert body == '{"a":"é","b":1}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body.encode(), hashlib.sha256).hexdigest()
    assert w.sign("whsec_k", 1700000000, body) == "sha256=" + expected
    assert w.verify("whsec_k", "1700000000", body.encode(), "sha256=" + expected, now=1700000100)
    assert not w.verify("whsec_k", "1700000000", body.encode() + b" ", "sha256=" + expected, now=1700000100)
    assert not w.verify("other", "1700000000", body.encode(), "sha256=" + expected, now=1700000100)
    assert not w.verify("whsec_k", "1700000000", body.encode(), "sha256=" + expected, now=1700001000)  # stale
    assert not w.verify("whsec_k", "soon", body.encode(), "sha256=" + expected, now=1700000000)


def test_secrets_are_long_and_distinct():
    assert len({w.new_secret() for _ in range(50)}) == 50 and len(w.new_secret()) > 40


def test_headers_name_event_timestamp_and_signature():
    h = w.headers(event_id="e", event_type="ideas.idea_created", delivery_id="d", timestamp=5, signature="sha256=x")
    assert h["X-Agora-Event-Id"] == "e" and h["X-Agora-Timestamp"] == "5" and h["X-Agora-Signature"] == "sha256=x"


def test_backoff_grows_three_fold_and_is_capped():
    assert [w.retry_delay(n, 10, 3600) for n in range(1, 7)] == [10, 30, 90, 270, 810, 2430]
    assert w.retry_delay(9, 10, 3600) == 3600


def test_next_state_after_an_attempt():
    assert w.next_state(1, 200, 5, 10, 100) == ("delivered", None)
    assert w.next_state(1, 204, 5, 10, 100) == ("delivered", None)
    assert w.next_state(1, 500, 5, 10, 100) == ("pending", 10)
    assert w.next_state(2, None, 5, 10, 100) == ("pending", 30)  # a timeout or connection error
    assert w.next_state(1, 302, 5, 10, 100) == ("pending", 10)  # redirects are not followed
    assert w.next_state(5, 500, 5, 10, 100) == ("failed", None)
    assert w.next_state(1, None, 5, 10, 100, retryable=False) == ("failed", None)


@pytest.mark.parametrize("address", [
    "2002:7f00:1::",            # 6to4 of 127.0.0.1
    "2002:a00:1::1",            # 6to4 of 10.0.0.1
    "2002:c0a8:101::",          # 6to4 of 192.168.1.1
    "::ffff:10.0.0.1",          # IPv4-mapped
    "::7f00:1",                 # IPv4-compatible 127.0.0.1
    "::a9fe:a9fe",              # IPv4-compatible 169.254.169.254
    "64:ff9b::7f00:1",          # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",       # NAT64 of the metadata address
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "fd12:3456:789a::1",        # unique local (fc00::/7)
    "fe80::1%eth0",             # link-local with a zone
])
def test_ipv6_forms_of_private_addresses_are_refused(address):
    with pytest.raises(w.RefusedTarget, match="may not reach"):
        w.check_target("https://hooks.example.org/x", allow_private=False, resolver=fake([address]))
    with pytest.raises(w.RefusedTarget, match="may not reach"):
        w.check_target(f"http://[{address.split('%')[0]}]/hook", allow_private=False)


def test_ipv6_forms_of_public_addresses_are_accepted():
    for address in ("2606:4700::1111", "2002:5db8:d822::"):  # (NAT64 sits in the reserved ::/8: always refused)
        assert w.check_target("https://hooks.example.org/x", False, resolver=fake([address])) == [address]


def test_only_ports_80_443_and_the_allowed_ones_are_accepted():
    public = fake(["93.184.216.34"])
    for url in ("http://hooks.example.org/x", "https://hooks.example.org/x", "http://hooks.example.org:443/x"):
        assert w.check_target(url, False, resolver=public)
    for url in ("http://hooks.example.org:8080/x", "https://hooks.example.org:22/x", "http://hooks.example.org:6379/"):
        with pytest.raises(w.RefusedTarget, match="port 80, 443"):
            w.check_target(url, False, resolver=public)
    assert w.check_target("https://hooks.example.org:8443/x", False, resolver=public, allowed_ports=(8443,))
    with pytest.raises(w.RefusedTarget, match="port 80, 443, 8443"):
        w.check_target("https://hooks.example.org:8080/x", False, resolver=public, allowed_ports=(8443,))
    # local integration and tests: any port
    assert w.check_target("http://127.0.0.1:8080/x", True, resolver=fake(["127.0.0.1"])) == ["127.0.0.1"]


def test_a_refusal_never_says_what_the_host_resolves_to():
    for addresses in (["10.20.30.40"], ["93.184.216.34", "fd00::abcd"], ["2002:a14:1e28::"]):
        with pytest.raises(w.RefusedTarget) as refused:
            w.check_target("https://intranet.example.org/", False, resolver=fake(addresses))
        message = str(refused.value)
        assert not any(a in message for a in addresses) and "10.20" not in message, message


def test_addresses_come_ipv4_first():
    assert w.resolve("localhost", 80)[0] == "127.0.0.1"
