"""Per-worker logging context and latency metrics for every entrypoint, plus the ops endpoint."""
from __future__ import annotations

import time

from kombu import Connection
from nameko.extensions import DependencyProvider

from services.common import logs, metrics, ops
from services.common.config import settings


class Observability(DependencyProvider):
    """Binds `service`, `entrypoint` and `call_id` to every log line of a worker and times it."""

    def setup(self):
        cfg = settings()
        logs.configure(cfg.log_level)
        ops.start(cfg.ops_port)
        amqp_uri = self.container.config.get("AMQP_URI") or cfg.amqp_uri
        ops.add_readiness_check("broker", lambda: _broker_reachable(amqp_uri))
        self.service_name = self.container.service_name
        self._started: dict = {}

    def worker_setup(self, worker_ctx):
        logs.clear()
        logs.bind(
            service=self.service_name,
            entrypoint=worker_ctx.entrypoint.method_name,
            call_id=worker_ctx.call_id,
        )
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        if exc_info is None:
            outcome = "ok"
        else:
            from services.common.errors import AgoraError

            outcome = "rejected" if isinstance(exc_info[1], AgoraError) else "error"
        metrics.ENTRYPOINT_SECONDS.labels(self.service_name, worker_ctx.entrypoint.method_name, outcome).observe(
            time.perf_counter() - started
        )

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)
        logs.clear()


def _broker_reachable(uri: str) -> bool:
    with Connection(uri, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1)
    return True
