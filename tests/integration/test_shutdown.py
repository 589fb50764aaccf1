"""SIGTERM lets in-flight work finish before a service process exits (Kubernetes rolling updates), and a
busy platform exits well within the grace period Kubernetes gives (30 s), every time."""
import os
import signal
import socket
import threading
import time
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from support import Api, Platform, service_names

GRACE_SECONDS = 30
ROUNDS = 10
LOAD_SECONDS = 2.5
DRAIN_SECONDS = 1.5


def test_sigterm_finishes_in_flight_calls_then_exits(environment, tmp_path):
    process = Platform(environment, [], gateway=False, log_dir=tmp_path, name="slowpoke")
    process.modules = lambda: ["tests.integration.slowpoke"]
    process.start()
    with ClusterRpcProxy({"AMQP_URI": environment.amqp_uri}, timeout=20) as cluster:
        reply = cluster.slowpoke.nap.call_async(2)
        time.sleep(0.7)  # the call is in flight
        process.process.send_signal(signal.SIGTERM)
        assert reply.result() == "slept 2"
    assert process.process.wait(20) == 0


class Load:
    """Citizens posting ideas and voting on them from a few threads until `stop()`."""

    def __init__(self, api: Api, city: dict, citizens: list[dict], project: str, ideas: list[str]):
        self.api, self.city, self.citizens, self.project, self.ideas = api, city, citizens, project, ideas
        self.halt = threading.Event()
        self.sent = 0
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(6)]

    def _run(self, n: int):
        client = Api(self.api.base.rsplit("/api/v1", 1)[0])
        slug = self.city["slug"]
        k = 0
        while not self.halt.is_set() and k < 10_000:
            k += 1
            citizen = self.citizens[(n + k) % len(self.citizens)]
            try:
                if k % 3 == 0:
                    client.post(f"/cities/{slug}/projects/{self.project}/ideas", token=citizen["token"],
                                json={"title": f"Bike racks {n}-{k}", "body": "Near the station."}, timeout=5)
                else:
                    idea = self.ideas[(n * 7 + k) % len(self.ideas)]
                    client.put(f"/cities/{slug}/ideas/{idea}/vote", token=citizen["token"],
                               json={"value": "up" if k % 4 else "down"}, timeout=5)
                self.sent += 1
            except Exception:  # the platform is going away under us: that is the point
                time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(10)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(ROUNDS * 60)
def test_sigterm_to_a_busy_platform_exits_within_the_grace_period_every_time(environment, tmp_path):
    """Ten rounds on one database: start everything, post ideas and votes with no SMTP server
    reachable, SIGTERM the process group as `make run` gets it, and time the exit."""
    extra = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(closed_port()), "MAIL_POLL_SECONDS": "0.5"}
    seconds, sent = [], []
    city = citizens = project = ideas = None
    for n in range(ROUNDS):
        platform = Platform(environment, service_names(), extra_env=extra, log_dir=tmp_path, name=f"round{n}")
        platform.start()
        try:
            api = Api(platform.url)
            if city is None:
                city = api.new_city()
                citizens = [api.new_user(city) for _ in range(6)]
                r = api.post(f"/cities/{city['slug']}/projects", token=city["admin_token"], json={
                    "title": {"en": "Shutdown drill"}, "method": "ideation", "status": "active"})
                assert r.status_code == 201, r.text
                project = r.json()["id"]
                ideas = []
                for c in citizens:
                    r = api.post(f"/cities/{city['slug']}/projects/{project}/ideas", token=c["token"],
                                 json={"title": f"Benches {uuid.uuid4().hex[:6]}", "body": "In the park."})
                    assert r.status_code == 201, r.text
                    ideas.append(r.json()["id"])
            load = Load(api, city, citizens, project, ideas)
            load.start()
            time.sleep(LOAD_SECONDS)
            started = time.monotonic()
            # `make run` delivers SIGTERM twice: to the process group, and again from make to its child
            os.killpg(platform.process.pid, signal.SIGTERM)
            time.sleep(0.4)
            threading.Timer(DRAIN_SECONDS, load.halt.set).start()  # clients go on a moment, then go elsewhere
            code = platform.stop(signal.SIGTERM, timeout=GRACE_SECONDS + 15)
            took = time.monotonic() - started
            load.stop()
        finally:
            if platform.process.poll() is None:
                platform.stop(signal.SIGKILL)
        seconds.append(round(took, 1))
        sent.append(load.sent)
        print(f"round {n}: exit {code} {took:.1f}s after SIGTERM, {load.sent} requests", flush=True)
        log = platform.log_path.read_text(errors="replace")
        assert took < GRACE_SECONDS, f"round {n}: still running {took:.1f}s after SIGTERM\n{platform.log_tail(80)}"
        assert code == 0, f"round {n}: exit status {code}\n{platform.log_tail(80)}"
        for symptom in ("already-triggered event", "KeyError: <", "thread exited with error"):
            assert symptom not in log, f"round {n}: {symptom!r} in the log\n{platform.log_tail(80)}"
    print(f"exit after SIGTERM (s) per round: {seconds}; requests sent under load: {sent}")


def test_a_stop_outlasting_the_grace_period_is_cut_short(environment, tmp_path):
    """A worker that will not finish (a call of 60 s) does not hold the process past SHUTDOWN_GRACE_SECONDS:
    the container is killed, and its request goes back to the queue unanswered."""
    process = Platform(environment, [], gateway=False, log_dir=tmp_path, name="stuck",
                       extra_env={"SHUTDOWN_GRACE_SECONDS": "3"})
    process.modules = lambda: ["tests.integration.slowpoke"]
    process.start()
    with ClusterRpcProxy({"AMQP_URI": environment.amqp_uri}, timeout=20) as cluster:
        cluster.slowpoke.nap.call_async(60)
        time.sleep(0.7)  # the call is in flight
        started = time.monotonic()
        process.process.send_signal(signal.SIGTERM)
        code = process.process.wait(20)
        took = time.monotonic() - started
    assert code == 0
    assert 3 <= took < 10, took
    assert "shutdown_overdue" in process.log_path.read_text(errors="replace")
