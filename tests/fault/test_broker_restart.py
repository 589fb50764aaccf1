"""RabbitMQ restarted during load: the services reconnect by themselves, the outboxes deliver what was
pending, and nothing is lost.

The broker is a private RabbitMQ node started for this test (tests/fault/chaos.py), never the shared one:
its application is stopped (every connection closed, the port closed) and started again, as when the
broker's pod is restarted. Queues and persistent messages survive, as they do with a durable broker.
"""
import threading
import time

import pytest
import requests

from cluster import Books, Scratch, Voter, drive, split_pairs

from fault.chaos import PrivateRabbit, rabbit_available
from fault.conftest import Cluster

OUTAGE_SECONDS = 4.0


@pytest.fixture
def private_cluster(tmp_path):
    if not rabbit_available():
        pytest.skip("the RabbitMQ server is not installed on this machine")
    rabbit = PrivateRabbit().start()
    scratch = Scratch(amqp_uri=rabbit.amqp_uri)
    cluster = Cluster(scratch, tmp_path).start()
    yield cluster, rabbit, scratch
    cluster.stop()
    scratch.close()
    rabbit.close()


def test_broker_restart_during_load_reconnects_and_loses_nothing(private_cluster):
    cluster, rabbit, scratch = private_cluster
    city = cluster.city(authors=4, ideas_each=4, voters=80)
    clients = [Voter(cluster.core.url, city, pairs, seed=n) for n, pairs in enumerate(split_pairs(city, 8))]

    burst = threading.Thread(target=drive, args=(clients, 6.0))
    burst.start()
    time.sleep(3.0)
    rabbit.stop_app()                 # mid-burst: RPCs, events and outbox publishes in flight
    stopped_at = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    rabbit.start_app()
    restarted_at = time.monotonic()
    burst.join()

    during = [(d, s) for v in clients for (t, d, s) in v.timings if t > stopped_at + 0.5 and t + d < restarted_at]
    assert {s for _, s in during} <= {503}, f"while the broker is away the gateway answers 503: {during[:5]}"

    # the services and the gateway reconnect by themselves, then votes flow again
    def ready():
        try:
            return requests.get(cluster.core.url + "/readyz", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    deadline = time.monotonic() + 45
    while not ready():
        assert time.monotonic() < deadline, f"not ready after the broker restart\n{cluster.logs()}"
        time.sleep(0.5)
    # a vote right after that may still meet a service whose consumers are coming back (503, "try again"):
    # the first vote is retried as a client would, after a pause, until it is accepted
    while clients[0].one() == 503:
        assert time.monotonic() < deadline, f"no vote accepted after the broker restart\n{cluster.logs()}"
        time.sleep(0.5)
    recovered_in = time.monotonic() - restarted_at
    drive(clients, 4.0)
    after = [s for v in clients for (t, d, s) in v.timings if t > restarted_at + recovered_in]
    assert after and set(after) == {200}, f"votes after the restart: {set(after)}\n{cluster.logs()}"

    books = Books(scratch, city)
    books.wait_settled(timeout=60)
    summary = books.check(clients)
    assert summary["answered_200"] > 100, summary
    print(f"recovered {recovered_in:.1f}s after the broker came back; {summary}")
