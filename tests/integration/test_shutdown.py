"""SIGTERM lets in-flight work finish before a service process exits (Kubernetes rolling updates)."""
import signal
import time

from nameko.standalone.rpc import ClusterRpcProxy

from support import Platform


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
