"""The bare baseline of the vote benchmark: the same gateway, one extra route, and an RPC echo service.

`PUT /api/v1/cities/<city>/bench-echo/<idea_id>` takes the vote's body and token, goes through everything
the gateway does for a vote (route match, token check, city lookup, body validation, one RPC, JSON
answer) and calls `echo.echo`, which answers at once: no database, no event. The echo service uses the
platform's RPC entrypoint (nameko's, with the platform's replies), as every service does. What the vote
path costs beyond this is the voting service's own work.

Run with `nameko run bench.echo` (both services) or `nameko run bench.echo:EchoService` /
`bench.echo:GatewayWithEcho`. Used by bench/bench_votes.py only; it is not part of the platform.
"""
from __future__ import annotations


from gateway.routing import USER, route
from services.common.entrypoints import rpc
from services.common.observability import Observability
from services.voting import schemas


@route("PUT", "/cities/<city>/bench-echo/<idea_id>", auth=USER, body=schemas.VoteBody, tag="bench",
       summary="Benchmark baseline: a vote's request answered by an RPC echo without database")
def put_echo(call):
    return call.rpc("echo", "echo", call.principal, "idea", call.params["idea_id"], call.json)


import gateway.service as _gateway  # noqa: E402  (after the route: the URL map is built on import)


class EchoService:
    name = "echo"

    obs = Observability()  # the same per-call logging context and latency metric as every service

    @rpc
    def echo(self, principal, target_type, target_id, payload):
        return {"value": payload.get("value"), "up_votes": 0, "down_votes": 0}


class GatewayWithEcho(_gateway.GatewayService):
    """The gateway with the echo route (its RPC client reaches any service by name)."""
