"""A dead service: the gateway routes that need it answer 503 within the RPC timeout, the others keep
working; when it comes back it serves again, and what happened meanwhile is accounted for."""
import signal
import time

from kombu import Connection

from cluster import Books, Voter, split_pairs
from support import eventually

from fault.conftest import RPC_TIMEOUT


def queue_depth(amqp_uri: str, queue: str) -> int:
    with Connection(amqp_uri) as conn:
        return conn.channel().queue_declare(queue=queue, passive=True).message_count


def timed(fn):
    started = time.monotonic()
    r = fn()
    return r, time.monotonic() - started


def test_dead_service_answers_503_within_the_rpc_timeout_and_others_keep_working(cluster, scratch):
    city = cluster.city(authors=3, ideas_each=3, voters=30)
    api, slug = cluster.api, city.slug
    author, idea = city.authors[0], next(iter(city.ideas))
    assert api.get(f"/cities/{slug}/leaderboard").status_code == 200

    cluster.gamification.stop(sig=signal.SIGKILL)

    r, took = timed(lambda: api.get(f"/cities/{slug}/leaderboard"))
    assert r.status_code == 503 and r.json()["error"]["code"] == "SERVICE_UNAVAILABLE", r.text
    assert took < RPC_TIMEOUT + 1.0, f"503 after {took:.2f}s"
    r, took = timed(lambda: api.get(f"/cities/{slug}/users/{author['id']}/score"))
    assert r.status_code == 503 and took < RPC_TIMEOUT + 1.0

    # a service that is not running at all in this deployment: refused at once
    r, took = timed(lambda: api.get(f"/cities/{slug}/users/me/notifications", token=author["token"]))
    assert r.status_code == 503 and took < 1.0, (r.status_code, took)

    # the requests the gateway gave up on expire in the queue: they will not run late when it returns
    eventually(lambda: queue_depth(scratch.amqp_uri, "rpc-gamification") == 0, timeout=RPC_TIMEOUT + 3)

    # what does not need gamification goes on, and quickly
    client = Voter(cluster.core.url, city, split_pairs(city, 1)[0], seed=1)
    for _ in range(20):
        started = time.monotonic()
        assert client.one() == 200
        assert time.monotonic() - started < 1.0
    r = api.get(f"/cities/{slug}/projects/{city.project}/ideas?sort=popular")
    assert r.status_code == 200 and len(r.json()["items"]) == len(city.ideas)
    assert api.get(f"/cities/{slug}/ideas/{idea}").status_code == 200

    # back: it serves again and books what was voted while it was away
    cluster.gamification.start()
    r = api.get(f"/cities/{slug}/leaderboard")
    assert r.status_code == 200
    books = Books(scratch, city)
    books.wait_settled(timeout=30)
    books.check([client])
