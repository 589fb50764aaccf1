"""PostgreSQL away for a few seconds during load (a TCP proxy in front of the shared server cuts every
connection and refuses new ones): the gateway answers 503 quickly, nothing is half-written, and the
services recover by themselves when the database is back."""
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from cluster import Books, Voter, drive, split_pairs

from fault.chaos import TcpProxy
from fault.conftest import Cluster

OUTAGE_SECONDS = 4.0


@pytest.fixture
def proxied(scratch, tmp_path):
    parts = urlsplit(scratch.database_url)
    proxy = TcpProxy(parts.hostname, parts.port or 5432).start()
    via_proxy = urlunsplit((parts.scheme, f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username
                            else f"127.0.0.1:{proxy.port}", parts.path, parts.query, ""))
    cluster = Cluster(scratch, tmp_path, database_url=via_proxy).start()
    yield cluster, proxy
    proxy.restore()
    cluster.stop()
    proxy.close()


def test_database_outage_answers_503_quickly_and_recovers_without_loss(proxied, scratch):
    cluster, proxy = proxied
    city = cluster.city(authors=4, ideas_each=4, voters=80)
    clients = [Voter(cluster.core.url, city, pairs, seed=n) for n, pairs in enumerate(split_pairs(city, 8))]

    burst = threading.Thread(target=drive, args=(clients, 13.0), kwargs={"pause": 0.02})
    burst.start()
    time.sleep(3.0)
    proxy.cut()
    cut_at = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    proxy.restore()
    restored_at = time.monotonic()
    burst.join()

    during = [(d, s) for v in clients for (t, d, s) in v.timings if t > cut_at + 0.5 and t + d < restored_at]
    assert during, "requests were sent during the outage"
    assert {s for _, s in during} == {503}, f"statuses while the database was away: {set(s for _, s in during)}"
    assert max(d for d, _ in during) < 1.0, "503 must come quickly"
    after = [s for v in clients for (t, d, s) in v.timings if t > restored_at + 2.0]
    assert after and set(after) == {200}, f"the platform recovers by itself: {set(after)}\n{cluster.logs()}"

    books = Books(scratch, city)
    books.wait_settled(timeout=45)
    summary = books.check(clients)
    assert summary["answered_200"] > 50, summary
