"""What the event feed adds to /metrics: subscribers, publishes, drops, the broker."""

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .hub import EventHub


class EventMetrics(Collector):
    """Read from the hub at each scrape; counted by the routes as they go."""

    def __init__(self) -> None:
        self.hub: EventHub | None = None
        self.published = 0
        self.dropped = 0
        # Set once the hub is being closed: streams it ends then end for shutdown.
        self.closing = False

    def collect(self) -> Iterable[Metric]:
        """The metrics, as they stand now."""
        hub = self.hub
        yield GaugeMetricFamily(
            "sse_subscribers",
            "Event streams open on this process.",
            value=hub.subscribers if hub is not None else 0,
        )
        yield CounterMetricFamily(
            "sse_events_published", "Events published through this process.", value=self.published
        )
        yield CounterMetricFamily(
            "sse_subscribers_dropped",
            "Event streams the hub ended because their client fell SSE_QUEUE_SIZE events behind "
            "(or, with Redis, this process fell behind the stream).",
            value=self.dropped,
        )
        if hub is not None and hub.broker is not None:
            yield GaugeMetricFamily(
                "sse_broker_up",
                "1 while the broker (BROKER_URL) answers, 0 while it cannot be reached.",
                value=1 if hub.broker == "ok" else 0,
            )
