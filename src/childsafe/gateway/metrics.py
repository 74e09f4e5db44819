"""Prometheus metrics, one registry per app instance (so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class WriterStats(Protocol):
    """The counters of a background writer (``childsafe.store.background.QueuedSink``)."""

    @property
    def written(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def retry_failures(self) -> int: ...


class JournalStats(Protocol):
    """The counters of the escalation journal (``childsafe.store.recorder.EscalationJournal``)."""

    appended: int
    append_errors: int
    corrupt: int
    replayed: int

    @property
    def pending_count(self) -> int: ...


class _StoreCollector(Collector):
    """Reads the writers' and the journal's own counters at scrape time (they are plain ints on the hot path)."""

    def __init__(self, writers: Mapping[str, WriterStats], journal: JournalStats | None) -> None:
        self._writers = dict(writers)
        self._journal = journal

    def collect(self) -> Iterator[Metric]:
        per_writer: list[tuple[type[CounterMetricFamily] | type[GaugeMetricFamily], str, str, str]] = [
            (CounterMetricFamily, "childsafe_store_writer_written", "Items the background writer stored", "written"),
            (
                CounterMetricFamily,
                "childsafe_store_writer_failed",
                "Items a write failed for (escalations among them stay in the journal and are replayed)",
                "failed",
            ),
            (
                CounterMetricFamily,
                "childsafe_store_writer_dropped",
                "Items never attempted: the queue stayed full, or they came after close",
                "dropped",
            ),
            (GaugeMetricFamily, "childsafe_store_writer_queued", "Items waiting in the writer's queue", "pending"),
            (
                CounterMetricFamily,
                "childsafe_store_writer_replay_failures",
                "Journal replays that failed or left entries behind (retried with backoff)",
                "retry_failures",
            ),
        ]
        for family, name, doc, attr in per_writer:
            metric = family(name, doc, labels=["writer"])
            for label, writer in self._writers.items():
                metric.add_metric([label], float(getattr(writer, attr)))
            yield metric
        j = self._journal
        if j is None:
            return
        yield GaugeMetricFamily(
            "childsafe_escalation_journal_pending",
            "Escalate/report decisions in the local journal that the database has not committed yet",
            value=float(j.pending_count),
        )
        yield CounterMetricFamily(
            "childsafe_escalation_journal_appended", "Escalations appended (fsynced) to the journal", value=j.appended
        )
        yield CounterMetricFamily(
            "childsafe_escalation_journal_append_errors",
            "Escalations the journal could not write to disk (kept in memory and replayed)",
            value=j.append_errors,
        )
        yield CounterMetricFamily(
            "childsafe_escalation_journal_replayed",
            "Journal entries a replay stored (the queue had failed or dropped them, or a crash left them)",
            value=j.replayed,
        )
        yield CounterMetricFamily(
            "childsafe_escalation_journal_corrupt", "Unreadable journal lines skipped at start", value=j.corrupt
        )


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
        self.login_throttled = Counter(
            "childsafe_login_throttled",
            "Web logins refused before any password check, by reason (ip, account, busy)",
            ["reason"],
            registry=self.registry,
        )
        self._store_watched = False

    def watch_store(self, writers: Mapping[str, WriterStats], journal: JournalStats | None = None) -> None:
        """Expose the background writers' counters (written, failed, dropped, queued) and the journal backlog."""
        if self._store_watched:
            raise RuntimeError("the store writers are already watched")
        self.registry.register(_StoreCollector(writers, journal))
        self._store_watched = True

    def render(self) -> bytes:
        return generate_latest(self.registry)
