"""Webhooks through the gateway: a local receiver gets signed events, failures are retried with backoff,
a hanging receiver delays nobody else, and bad subscriptions are refused with clear errors."""
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kombu import Connection
from kombu.messaging import Producer
from nameko.standalone.events import get_event_exchange

from support import eventually


def publish(environment, type_: str, city_id, data: dict, event_id=None) -> dict:
    envelope = {
        "event_id": str(event_id or uuid.uuid4()), "type": type_, "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "city_id": str(city_id), "actor_id": None,
        "data": data,
    }
    service, name = type_.split(".", 1)
    with Connection(environment.amqp_uri) as conn:
        exchange = get_event_exchange(service, {})
        exchange(conn.default_channel).declare()
        Producer(conn.default_channel, exchange=exchange, serializer="json").publish(
            envelope, routing_key=name, delivery_mode=2)
    return envelope


def idea_created(environment, city, event_id=None) -> dict:
    return publish(environment, "ideas.idea_created", city["id"], event_id=event_id, data={
        "idea_id": str(uuid.uuid4()), "project_id": str(uuid.uuid4()), "author_id": city["admin_id"],
        "title": "Trees on the market square", "body": "Shade in summer", "topics": [], "locale": "en",
        "location": None, "status": "proposed", "created_at": datetime.now(timezone.utc).isoformat()})


class Receiver:
    """A real HTTP server on 127.0.0.1 recording every request; `answers` says what to reply in turn
    (a status code, or "hang" to never answer), the last one repeating."""

    def __init__(self, *answers):
        self.answers = list(answers or [200])
        self.requests: list[dict] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.time()})
                answer = receiver.answers[min(len(receiver.requests), len(receiver.answers)) - 1]
                if answer == "hang":
                    receiver.release.wait(60)
                    return
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/agora"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(*answers):
        made.append(Receiver(*answers))
        return made[-1]

    yield make
    for r in made:
        r.close()


def subscribe(api, city, url, events):
    r = api.post(f"/cities/{city['slug']}/webhooks", token=city["admin_token"], json={"url": url, "events": events})
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(api, city, hook):
    r = api.get(f"/cities/{city['slug']}/webhooks/{hook['id']}/deliveries", token=city["admin_token"])
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_subscribed_receiver_gets_signed_events_retried_until_it_answers(api, environment, city, receivers):
    flaky = receivers(500, 500, 200)
    hook = subscribe(api, city, flaky.url, ["idea.created"])
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["ideas.idea_created"]
    publish(environment, "ideas.comment_created", city["id"], data={"comment_id": str(uuid.uuid4())})  # not subscribed
    event = idea_created(environment, city)

    eventually(lambda: len(flaky.requests) >= 3, timeout=20)
    first, last = flaky.requests[0], flaky.requests[-1]
    assert {r["headers"]["X-Agora-Event-Id"] for r in flaky.requests} == {event["event_id"]}
    assert last["headers"]["X-Agora-Event-Type"] == "ideas.idea_created"
    assert last["at"] - first["at"] >= 0.2 + 0.6 - 0.1  # exponential backoff: 0.2 s, then 0.6 s
    for request in flaky.requests:  # every attempt is signed over its own timestamp and the body
        ts, body = request["headers"]["X-Agora-Timestamp"], request["body"]
        expected = hmac.new(hook["secret"].encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        assert request["headers"]["X-Agora-Signature"] == f"sha256={expected}"
        assert abs(time.time() - int(ts)) < 60
    assert json.loads(last["body"]) == event  # the envelope as published

    log = eventually(lambda: [d for d in deliveries(api, city, hook) if d["status"] == "delivered"], timeout=10)
    assert len(log) == 1 and len(deliveries(api, city, hook)) == 1
    assert log[0]["attempts"] == 3 and log[0]["event_id"] == event["event_id"] and log[0]["next_retry_at"] is None
    assert [a["status_code"] for a in log[0]["attempt_log"]] == [500, 500, 200]
    time.sleep(1)  # nothing more arrives after success
    assert len(flaky.requests) == 3


def test_a_hanging_receiver_delays_no_one_else_and_events_are_sent_once(api, environment, city, receivers):
    hanging, quick, redirecting = receivers("hang"), receivers(204), receivers(302)
    slow_hook = subscribe(api, city, hanging.url, ["ideas.*"])
    quick_hook = subscribe(api, city, quick.url, ["idea.created"])
    redirect_hook = subscribe(api, city, redirecting.url, ["ideas.idea_created"])
    events = [idea_created(environment, city) for _ in range(6)]
    idea_created(environment, city, event_id=events[0]["event_id"])  # the same event again

    eventually(lambda: len(quick.requests) >= 6, timeout=5)
    assert not [d for d in deliveries(api, city, slow_hook) if d["status"] == "delivered"]
    assert sorted(r["headers"]["X-Agora-Event-Id"] for r in quick.requests) == sorted(e["event_id"] for e in events)
    assert all(d["status"] == "delivered" for d in deliveries(api, city, quick_hook))
    # a redirect is not followed: it is a failed attempt, retried later
    tried = eventually(lambda: [d for d in deliveries(api, city, redirect_hook) if d["attempt_log"]], timeout=10)
    assert tried[0]["attempt_log"][0]["status_code"] == 302 and "not followed" in tried[0]["attempt_log"][0]["error"]
    # the hanging receiver's attempts end at the timeout and are scheduled again
    timed_out = eventually(lambda: [d for d in deliveries(api, city, slow_hook)
                                    if d["attempt_log"] and "no answer within" in (d["attempt_log"][0]["error"] or "")],
                           timeout=15)
    assert timed_out[0]["status"] == "pending" and timed_out[0]["next_retry_at"]
    # at most WEBHOOK_PER_SUBSCRIPTION (4) deliveries of one subscription are in flight at once
    assert len(hanging.requests) <= 4 * 2


def test_bad_subscriptions_are_refused_with_clear_errors(api, city):
    base = f"/cities/{city['slug']}/webhooks"
    admin = city["admin_token"]
    for url in ("ftp://example.org/x", "not a url", "http://", "http://user:pw@example.org/", "https://exa mple.org/",
                "http://no-such-host.invalid/hook"):
        r = api.post(base, token=admin, json={"url": url, "events": ["ideas.idea_created"]})
        assert r.status_code == 422, (url, r.text)
        assert r.json()["error"]["details"][0]["field"] == "url", url
    r = api.post(base, token=admin, json={"url": "http://127.0.0.1:9/x", "events": ["idea.created", "ideas.nope", "x"]})
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == ["events.1", "events.2"]
    assert "ideas.nope" in r.json()["error"]["details"][0]["issue"]
    assert api.post(base, token=admin, json={"url": "http://127.0.0.1:9/x", "events": []}).status_code == 422
    assert api.post(base, token=admin, json={"url": "http://127.0.0.1:9/x"}).status_code == 422

    citizen = api.new_user(city)
    assert api.post(base, token=citizen["token"], json={"url": "http://127.0.0.1:9/x", "events": ["*"]}).status_code == 403
    assert api.get(base, token=citizen["token"]).status_code == 403

    hook = api.post(base, token=admin, json={"url": "http://127.0.0.1:9/x", "events": ["voting.*", "vote.cast", "#"]}).json()
    assert hook["events"] == ["voting.*", "voting.vote_cast", "*"]
    listed = api.get(base, token=admin).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    other = api.new_city()
    assert api.get(f"/cities/{other['slug']}/webhooks/{hook['id']}/deliveries", token=other["admin_token"]).status_code == 404
    assert api.delete(f"{base}/{uuid.uuid4()}", token=admin).status_code == 404
    assert api.delete(f"{base}/not-an-id", token=admin).status_code == 404
    assert api.delete(f"{base}/{hook['id']}", token=admin).status_code == 204
    assert api.get(base, token=admin).json()["items"] == []
    assert api.get(f"{base}/{hook['id']}/deliveries", token=admin).status_code == 404
