"""SIGKILL the gamification service in the middle of a burst of votes, start it again: every author's
points equal exactly what the stored votes give; no award is lost and none is booked twice."""
import signal
import threading
import time

from cluster import Books, Voter, drive, split_pairs


def test_sigkill_gamification_mid_burst_loses_and_doubles_nothing(cluster, scratch):
    city = cluster.city(authors=5, ideas_each=4, voters=120)
    clients = [Voter(cluster.core.url, city, pairs, seed=n) for n, pairs in enumerate(split_pairs(city, 12))]
    books = Books(scratch, city)

    burst = threading.Thread(target=drive, args=(clients, 9.0))
    burst.start()
    time.sleep(3.0)
    cluster.gamification.stop(sig=signal.SIGKILL)  # mid-burst: handlers in flight, messages unacked
    killed_at = time.monotonic()
    time.sleep(2.0)
    cluster.gamification.start()                   # the same service, a new process
    burst.join()

    answered_while_dead = [s for v in clients for (t, d, s) in v.timings if killed_at <= t and t + d < killed_at + 2]
    assert answered_while_dead and set(answered_while_dead) == {200}, "votes must not depend on gamification"
    statuses = {s for v in clients for s in v.statuses}
    assert statuses == {200}, f"every vote is answered: {statuses}\n{cluster.logs()}"

    books.wait_settled(timeout=60)
    summary = books.check(clients)
    assert summary["answered_200"] > 200 and summary["authors_points"] > 0, summary
