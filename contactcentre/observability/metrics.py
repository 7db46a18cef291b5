"""Prometheus metrics. Each process (daphne instance, worker) exposes its own ``/metrics``;
Prometheus scrapes every instance and sums. Labels stay low-cardinality (route names, channels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "cc_http_request_duration_seconds",
    "HTTP request latency by route name and method",
    ["route", "method", "status_class"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
INTAKE_TOTAL = Counter("cc_intake_total", "Inbound messages stored, by channel and outcome", ["channel", "outcome"])
WEBSOCKETS = Gauge("cc_websocket_connections", "Open websocket connections in this process", ["kind"])
BREACHES_TOTAL = Counter("cc_commitment_events_total", "Commitment warnings and breaches announced", ["clock", "kind"])
BROADCAST_FAILURES = Counter("cc_live_broadcast_failures_total", "Live broadcasts that failed (clients resync)")
QUEUE_DEPTH = Gauge("cc_job_queue_depth", "Background jobs waiting in the broker", ["queue"])


def intake_observed(*, channel: str, created: bool, duplicate: bool, held: bool) -> None:
    outcome = "duplicate" if duplicate else "held" if held else "new_ticket" if created else "threaded"
    INTAKE_TOTAL.labels(channel=channel, outcome=outcome).inc()
