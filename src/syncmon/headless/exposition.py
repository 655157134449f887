"""`watch --metrics-port`: Prometheus text exposition of what the last evaluation saw.

A private `CollectorRegistry` (never the global one) so tests and embedders can run several
watchers in one process, served beside the state by `headless/serve.py` (whose server
closes a connection that has not sent its headers within 5 s).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from syncmon.core.alerts import AlertEvent, AlertState, AlertTracker
from syncmon.core.metrics import EndpointStatus
from syncmon.core.rules import ENDPOINT_LABEL
from syncmon.engine.poll import Snapshot
from syncmon.headless.receivers import Receiver

POLL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ReceiverCollector(Collector):
    """Read at scrape time: the receivers' own counters are the single source of truth."""

    def __init__(self, receivers: Sequence[Receiver]) -> None:
        self.receivers = receivers

    def collect(self) -> Iterator[Any]:
        depth = GaugeMetricFamily(
            "syncmon_receiver_queue_depth",
            "Events waiting to be delivered to a receiver",
            labels=["receiver"],
        )
        up = GaugeMetricFamily(
            "syncmon_receiver_up",
            "1 if the last send to the receiver succeeded",
            labels=["receiver"],
        )
        sent = CounterMetricFamily(
            "syncmon_receiver_sends", "Successful requests to a receiver", labels=["receiver"]
        )
        failed = CounterMetricFamily(
            "syncmon_receiver_send_failures",
            "Failed requests to a receiver (each retry counts)",
            labels=["receiver"],
        )
        dropped = CounterMetricFamily(
            "syncmon_receiver_dropped_events",
            "Events given up on (queue full or rejected)",
            labels=["receiver"],
        )
        for receiver in self.receivers:
            labels = [receiver.name]
            depth.add_metric(labels, receiver.queue_depth)
            up.add_metric(labels, 1 if receiver.healthy else 0)
            sent.add_metric(labels, receiver.sent)
            failed.add_metric(labels, receiver.failures)
            dropped.add_metric(labels, receiver.dropped)
        yield from (depth, up, sent, failed, dropped)


class WatchMetrics:
    """The gauges `watch` keeps current after each evaluation."""

    def __init__(self, receivers: Sequence[Receiver] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.metric = Gauge(
            "syncmon_metric",
            "Value of a syncmon metric over the display "
            "window, in its base unit (ratio 0-1, ms, count, per minute)",
            ["name"],
            registry=r,
        )
        self.samples = Gauge(
            "syncmon_metric_samples", "Samples a metric was computed from", ["name"], registry=r
        )
        self.firing = Gauge(
            "syncmon_alert_firing",
            "1 while the alert is firing (a rule over endpoints has one per endpoint)",
            ["rule", "severity", "endpoint"],
            registry=r,
        )
        self.state = Gauge(
            "syncmon_alert_state",
            "1 for the alert's current state",
            ["rule", "state", "endpoint"],
            registry=r,
        )
        self.endpoint_up = Gauge(
            "syncmon_endpoint_up",
            "1 if the health endpoint's latest poll was up or degraded, 0 if down",
            ["endpoint"],
            registry=r,
        )
        self.endpoint_latency = Gauge(
            "syncmon_endpoint_latency_seconds",
            "Latency of the latest health poll",
            ["endpoint"],
            registry=r,
        )
        self.source_up = Gauge(
            "syncmon_source_up",
            "1 if the source was read by the last evaluation",
            ["source"],
            registry=r,
        )
        self.poll_duration = Histogram(
            "syncmon_poll_duration_seconds",
            "Duration of one poll of every source",
            buckets=POLL_BUCKETS,
            registry=r,
        )
        self.last_evaluation = Gauge(
            "syncmon_last_evaluation_timestamp_seconds",
            "Unix time of the last evaluation",
            registry=r,
        )
        self.evaluations = Counter("syncmon_evaluations", "Evaluation cycles run", registry=r)
        self.overruns = Counter(
            "syncmon_cycle_overruns",
            "Cycles that took longer than the interval or were cut at the cycle timeout",
            registry=r,
        )
        self.events = Counter("syncmon_events", "State changes emitted", ["event"], registry=r)
        if receivers:
            r.register(ReceiverCollector(receivers))
        self._present: dict[int, set[tuple[str, ...]]] = {}

    def record(
        self,
        snapshot: Snapshot,
        trackers: Iterable[AlertTracker],
        events: Iterable[AlertEvent],
        sources: Iterable[str],
    ) -> None:
        self.evaluations.inc()
        self.last_evaluation.set(snapshot.evaluated_at.timestamp())
        if snapshot.poll_seconds:
            self.poll_duration.observe(snapshot.poll_seconds)
        metrics = snapshot.display_metrics
        self._prune(self.metric, {(n,) for n, m in metrics.items() if m.value is not None})
        self._prune(self.samples, {(n,) for n in metrics})
        for name, value in metrics.items():
            self.samples.labels(name).set(value.samples)
            if value.value is not None:
                self.metric.labels(name).set(value.value)
        trackers = list(trackers)
        firing = {(t.rule.name, t.rule.severity.value, _endpoint(t)): t for t in trackers}
        states = {(n, s.value, e): t for (n, _, e), t in firing.items() for s in AlertState}
        self._prune(self.firing, set(firing))
        self._prune(self.state, set(states))
        for labels, tracker in firing.items():
            self.firing.labels(*labels).set(1 if tracker.firing else 0)
        for labels, tracker in states.items():
            self.state.labels(*labels).set(1 if tracker.state == labels[1] else 0)
        for source in sources:
            self.source_up.labels(source).set(
                0 if any(s.value == source for s in snapshot.failed) else 1
            )
        if snapshot.endpoints is not None:
            self._prune(self.endpoint_up, {(e.name,) for e in snapshot.endpoints})
            self._prune(
                self.endpoint_latency,
                {(e.name,) for e in snapshot.endpoints if e.latency_ms is not None},
            )
            for endpoint in snapshot.endpoints:
                self.endpoint_up.labels(endpoint.name).set(
                    0 if endpoint.status is EndpointStatus.DOWN else 1
                )
                if endpoint.latency_ms is not None:
                    self.endpoint_latency.labels(endpoint.name).set(endpoint.latency_ms / 1000)
        for event in events:
            self.events.labels(event.kind).inc()

    def _prune(self, gauge: Gauge, keep: set[tuple[str, ...]]) -> None:
        """Drop label sets that vanished (an endpoint removed, a metric without a value)."""
        key = id(gauge)
        for labels in self._present.get(key, set()) - keep:
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)
        self._present[key] = keep


def _endpoint(tracker: AlertTracker) -> str:
    """The alert's `endpoint` label; empty (absent, to Prometheus) for a table rule's alert."""
    return dict(tracker.rule.series).get(ENDPOINT_LABEL, "")
