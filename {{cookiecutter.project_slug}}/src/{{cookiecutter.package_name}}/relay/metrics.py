"""What the relay adds to /metrics: the upstream's failures, by kind and by when."""

from collections import Counter
from collections.abc import Iterable
from typing import Literal

import httpx
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

Stage = Literal["before_headers", "mid_body"]


class RelayMetrics(Collector):
    """Counted by the relay as the upstream fails."""

    def __init__(self) -> None:
        self._errors: Counter[tuple[str, Stage]] = Counter()

    def failed(self, error: httpx.TransportError, stage: Stage) -> None:
        """Count one failure of the upstream."""
        self._errors[type(error).__name__, stage] += 1

    def collect(self) -> Iterable[Metric]:
        """The failures so far."""
        errors = CounterMetricFamily(
            "relay_upstream_errors",
            "Relayed requests the upstream failed: the error (httpx's name for it), and whether "
            "before its headers (the client got a 502, 503 or 504) or mid-body (cut off).",
            labels=["error", "stage"],
        )
        for (error, stage), count in sorted(self._errors.items()):
            errors.add_metric([error, stage], count)
        yield errors
