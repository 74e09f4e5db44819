"""Prometheus metrics, one registry per app instance (so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "childsafe_http_requests", "HTTP requests by route and status", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "childsafe_http_request_seconds",
            "Time to the response start, by route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "childsafe_decisions", "Gateway decisions by stage and action", ["stage", "action"], registry=self.registry
        )
        self.upstream_latency = Histogram(
            "childsafe_upstream_seconds", "Upstream time to response", buckets=_LATENCY_BUCKETS, registry=self.registry
        )
        self.upstream_errors = Counter(
            "childsafe_upstream_errors", "Upstream failures by kind", ["kind"], registry=self.registry
        )
        self.rate_limited = Counter(
            "childsafe_rate_limited", "Requests refused by the per-app rate limit", ["app"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
