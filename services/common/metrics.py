"""Prometheus metrics shared by every service (one registry per process, labelled by service)."""
from prometheus_client import Counter, Gauge, Histogram

ENTRYPOINT_SECONDS = Histogram(
    "agora_entrypoint_seconds",
    "Time spent in a service entrypoint",
    ["service", "entrypoint", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENT_LAG_SECONDS = Histogram(
    "agora_event_lag_seconds",
    "Time from an event's occurrence to a consumer applying it",
    ["service", "event"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
EVENTS_DUPLICATE = Counter(
    "agora_events_duplicate_total", "Redelivered events a consumer had already applied", ["service", "event"]
)
OUTBOX_PENDING = Gauge("agora_outbox_pending", "Events written but not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("agora_outbox_published_total", "Events published from the outbox", ["service"])
HTTP_REQUESTS = Histogram(
    "agora_http_request_seconds",
    "Gateway request latency",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENT_BATCH_SIZE = Histogram(
    "agora_event_batch_size",
    "Events applied together in one worker and one transaction",
    ["service", "handler"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
RPC_BATCH_SIZE = Histogram(
    "agora_rpc_batch_size",
    "Calls sent together as one batch RPC (the gateway's votes)",
    ["service", "method"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
TABLE_ROWS = Gauge(
    "agora_table_rows",
    "Rows in a service's bookkeeping tables (outbox, processed_events), counted after each pruning pass",
    ["schema", "table"],
)
EVENTS_GIVEN_UP = Counter(
    "agora_events_given_up_total",
    "Events acked without being applied after failing on their last delivery but one (QUEUE_DELIVERY_LIMIT)",
    ["service", "handler"],
)
