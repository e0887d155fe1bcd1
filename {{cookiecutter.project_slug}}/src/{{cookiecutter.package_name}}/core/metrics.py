"""`GET /metrics`: the service's metrics in the Prometheus text format (prometheus-client).

The stream metrics come from `StreamObserver`'s records, taken at the ASGI
send level, so a duration covers a stream to its last byte. Bytes and items
(rows, events) are counted for streams still open too: at each scrape the
open streams' counts so far are added to those of the ended ones, so an event
stream that lasts a day shows its traffic as it flows, and a record costs
nothing per piece sent. Features add their own metrics (`Feature.metrics`).
Each app has a registry of its own.
"""

from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from typing import Final

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from .observe import StreamRecord

# An endpoint label for requests that matched no route (404s, probes of nothing).
UNMATCHED: Final = "unmatched"
TTFB_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Streams last from milliseconds (an error) to hours (an event stream).
DURATION_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400
)  # fmt: skip


def _endpoint(record: StreamRecord) -> str:
    return record.endpoint or UNMATCHED


class StreamMetrics(Collector):
    """What the observer saw of every response: open, ended, bytes, items, timings."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._open: set[StreamRecord] = set()
        self._bytes: Tally[tuple[str, str]] = Tally()
        self._items: Tally[tuple[str, str]] = Tally()
        self._ended = Counter(
            "http_streams_ended",
            "Responses ended, by endpoint and outcome "
            "(complete, client_left, timeout, error, shutdown, dropped).",
            ["endpoint", "outcome"],
            registry=registry,
        )
        self._first_byte = Histogram(
            "http_time_to_first_byte_seconds",
            "Seconds from a request's arrival to its response's first body byte.",
            ["endpoint"],
            buckets=TTFB_BUCKETS,
            registry=registry,
        )
        self._duration = Histogram(
            "http_stream_duration_seconds",
            "Seconds from a request's arrival to its response's last byte (or its end).",
            ["endpoint"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        registry.register(self)

    def started(self, record: StreamRecord) -> None:
        """A response has started: count it open."""
        self._open.add(record)

    def ended(self, record: StreamRecord) -> None:
        """A response has ended: move its counts to the totals, observe its timings."""
        self._open.discard(record)
        endpoint = _endpoint(record)
        for key, value in self._counts(record):
            (self._bytes if key[1] in {"wire", "payload"} else self._items)[key] += value
        self._ended.labels(endpoint, record.outcome).inc()
        self._duration.labels(endpoint).observe(record.duration)
        ttfb = record.time_to_first_byte
        if ttfb is not None:
            self._first_byte.labels(endpoint).observe(ttfb)

    @staticmethod
    def _counts(record: StreamRecord) -> Iterator[tuple[tuple[str, str], int]]:
        endpoint = _endpoint(record)
        yield (endpoint, "wire"), record.wire_bytes
        payload = record.wire_bytes if record.payload_bytes is None else record.payload_bytes
        yield (endpoint, "payload"), payload
        if record.item:
            yield (endpoint, record.item), record.items

    def collect(self) -> Iterable[Metric]:
        """The open streams, and the bytes and items of ended and open streams so far."""
        open_streams = GaugeMetricFamily(
            "http_streams_active",
            "Responses started and not yet ended, by endpoint.",
            labels=["endpoint"],
        )
        for endpoint, count in sorted(Tally(_endpoint(r) for r in self._open).items()):
            open_streams.add_metric([endpoint], count)
        sent = CounterMetricFamily(
            "http_response_bytes",
            "Body bytes sent, by endpoint: `payload` before compression, `wire` after it.",
            labels=["endpoint", "stage"],
        )
        items = CounterMetricFamily(
            "http_stream_items",
            "Rows or events sent in responses, by endpoint and item.",
            labels=["endpoint", "item"],
        )
        totals: Tally[tuple[str, str]] = Tally()
        totals.update(self._bytes)
        totals.update(self._items)
        for record in self._open:
            for key, value in self._counts(record):
                totals[key] += value
        for (endpoint, kind), value in sorted(totals.items()):
            family = sent if kind in {"wire", "payload"} else items
            family.add_metric([endpoint, kind], value)
        return [open_streams, sent, items]


def add_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    """Serve `registry` at GET /metrics."""

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics() -> Response:
        """The service's metrics, in the Prometheus text format."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
