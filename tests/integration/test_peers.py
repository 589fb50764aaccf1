"""`Peers`: one service asking another over the real RabbitMQ, in-process containers."""
import pytest
from nameko.extensions import DependencyProvider
from nameko.testing.services import entrypoint_hook

from services.common.entrypoints import rpc
from services.common.errors import NotFound, Unavailable
from services.common.peers import Peers


class CallStack(DependencyProvider):
    """The call ids the worker was called with."""

    def get_dependency(self, worker_ctx):
        return list(worker_ctx.call_id_stack)


class Answering:
    name = "peeranswering"
    stack = CallStack()

    @rpc
    def call_ids(self, city_id):
        return {"city_id": city_id, "stack": self.stack}

    @rpc
    def missing(self, city_id):
        raise NotFound(f"Nothing in {city_id}.")


class Asking:
    name = "peerasking"
    peers = Peers(timeout=2.0)

    @rpc
    def relay(self, method, city_id):
        return self.peers.ask("peeranswering", method, city_id)

    @rpc
    def ask_nobody(self):
        return self.peers.ask("peernobody", "anything")


@pytest.fixture
def asking(container_factory, rabbit_config):
    container_factory(Answering, rabbit_config).start()
    container = container_factory(Asking, rabbit_config)
    container.start()
    return container


def test_a_peer_answers_and_the_call_ids_travel_on(asking):
    with entrypoint_hook(asking, "relay", context_data={"call_id_stack": ["gateway.api.req-1"]}) as relay:
        answer = relay("call_ids", "city-1")
    assert answer["city_id"] == "city-1"
    stack = answer["stack"]
    assert stack[0] == "gateway.api.req-1"
    assert any(s.startswith("peerasking.relay.") for s in stack)
    assert stack[-1].startswith("peeranswering.call_ids.")


def test_domain_errors_pass_through_and_a_missing_peer_is_unavailable(asking):
    with entrypoint_hook(asking, "relay") as relay:
        with pytest.raises(NotFound, match="Nothing in c2"):
            relay("missing", "c2")
    with entrypoint_hook(asking, "ask_nobody") as ask_nobody:
        with pytest.raises(Unavailable, match="peernobody"):
            ask_nobody()
