"""A three-node RabbitMQ cluster loses the node that leads the queues during vote load: the quorum queues
elect new leaders on the two nodes left, the platform reconnects through the load balancer in front of the
cluster, and no vote or point is lost or doubled.

The cluster is three private nodes started for this test (tests/fault/chaos.py `RabbitCluster`, each
with its own node name, ports and data), never the shared broker; the platform reaches it through a TCP
proxy that, like a load balancer, sends each new connection to the first node that accepts it.
"""
import threading
import time
from collections import Counter

import pytest
import requests

from cluster import Books, Scratch, Voter, drive, split_pairs

from fault.chaos import RabbitCluster, TcpProxy, rabbit_available
from fault.conftest import Cluster

KILL_AFTER_SECONDS = 4.0
LOAD_AFTER_KILL_SECONDS = 8.0   # at least; on a busy machine the load goes on until a vote is answered again
LOAD_AT_MOST_SECONDS = 60.0


@pytest.fixture
def rabbit_cluster(tmp_path):
    if not rabbit_available():
        pytest.skip("the RabbitMQ server is not installed on this machine")
    rabbits = RabbitCluster(3)
    proxy = scratch = platform = None
    try:
        rabbits.start()
        proxy = TcpProxy("127.0.0.1", rabbits.ports).start()
        scratch = Scratch(amqp_uri=f"amqp://guest:guest@127.0.0.1:{proxy.port}/")
        platform = Cluster(scratch, tmp_path).start()
        yield platform, rabbits, scratch
    finally:
        if platform is not None:
            platform.stop()
        if scratch is not None:
            scratch.close()
        if proxy is not None:
            proxy.close()
        rabbits.close()


@pytest.mark.timeout(420)
def test_losing_the_node_that_leads_the_queues_loses_and_doubles_nothing(rabbit_cluster):
    platform, rabbits, scratch = rabbit_cluster
    city = platform.city(authors=4, ideas_each=4, voters=40)

    leaders = rabbits.leaders()
    ours = {q: n for q, n in leaders.items() if q.startswith(("rpc-", "evt-"))}
    assert {"rpc-voting", "rpc-accounts", "rpc-ideas", "rpc-gamification"} <= set(ours), \
        f"the RPC queues are quorum queues with a leader: {sorted(leaders)}"
    assert any(q.startswith("evt-voting-") for q in ours), f"the event queues too: {sorted(ours)}"
    leader_name, led = Counter(ours.values()).most_common(1)[0]
    leader = rabbits.by_name(leader_name)
    survivor = next(n for n in rabbits.nodes if n is not leader)

    clients = [Voter(platform.core.url, city, pairs, seed=n) for n, pairs in enumerate(split_pairs(city, 8))]
    kill: list[float] = []

    def enough() -> bool:
        return bool(kill) and time.monotonic() > kill[0] + LOAD_AFTER_KILL_SECONDS and any(
            s == 200 and t > kill[0] for v in clients for (t, _, s) in list(v.timings))

    burst = threading.Thread(target=drive, args=(clients, LOAD_AT_MOST_SECONDS), kwargs={"stop": enough})
    burst.start()
    time.sleep(KILL_AFTER_SECONDS)
    leader.kill()
    killed_at = time.monotonic()
    kill.append(killed_at)
    burst.join()

    answered_after = sorted(t + d for v in clients for (t, d, s) in v.timings if s == 200 and t > killed_at)
    assert answered_after, f"no vote answered after the node was killed\n{platform.logs()}"
    back_in = answered_after[0] - killed_at

    def ready():
        try:
            return requests.get(platform.core.url + "/readyz", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    deadline = time.monotonic() + 30
    while not ready():
        assert time.monotonic() < deadline, f"not ready after the node was lost\n{platform.logs()}"
        time.sleep(0.3)
    drive(clients, 3.0)
    last = [s for v in clients for (t, d, s) in v.timings[-3:]]
    assert set(last) == {200}, f"votes once the cluster settled: {Counter(last)}\n{platform.logs()}"

    moved = rabbits.leaders(via=survivor)
    assert leader_name not in {moved.get(q) for q in ours}, "the queues have new leaders on the nodes left"

    books = Books(scratch, city)
    books.wait_settled(timeout=90)
    summary = books.check(clients)  # 0 lost, 0 doubled, totals and points exact
    sent = sum(len(v.timings) for v in clients)
    statuses = Counter(s for v in clients for (_, _, s) in v.timings)
    print(f"cluster: killed {leader_name} (leading {led} of {len(ours)} queues); votes sent {sent}, "
          f"answers {dict(statuses)}; stored {summary['votes']}, 0 lost, 0 doubled, points exact "
          f"({summary['authors_points']}); first vote answered {back_in:.1f}s after the kill")
