"""Batched calls carry the caller's call-id headers on, like single calls (real RabbitMQ)."""
import pytest
from nameko.extensions import DependencyProvider
from nameko.testing.services import entrypoint_hook

from services.common.entrypoints import rpc
from services.common.rpc_client import RpcClient


class CallStack(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return list(worker_ctx.call_id_stack)


class Batching:
    name = "batchanswering"
    stack = CallStack()

    @rpc
    def double_all(self, items):
        return [{"result": {"n": 2 * n, "stack": self.stack}, "error": None} for n in items]

    @rpc
    def single(self, n):
        return {"n": n, "stack": self.stack}


class Calling:
    name = "batchcalling"
    client = RpcClient()

    @rpc
    def double(self, n):
        return self.client.batched("batchanswering", "double_all", n, timeout=5)

    @rpc
    def once(self, n):
        return self.client.call("batchanswering", "single", n, timeout=5)


@pytest.fixture
def calling(container_factory, rabbit_config):
    container_factory(Batching, rabbit_config).start()
    container = container_factory(Calling, rabbit_config)
    container.start()
    return container


@pytest.mark.parametrize("method", ["double", "once"])
def test_the_request_id_travels_with_single_and_batched_calls(calling, method):
    with entrypoint_hook(calling, method, context_data={"call_id_stack": ["gateway.api.req-7"]}) as call:
        answer = call(21)
    assert answer["n"] == (42 if method == "double" else 21)
    assert answer["stack"][0] == "gateway.api.req-7"
    assert answer["stack"][-1].startswith("batchanswering.")
