"""One log line per finished response: what was asked, how it ended, what it cost.

    127.0.0.1:50522 "GET /path?token=***" 200 complete 412 B 5 rows 0.004 s ttfb 0.003 s id 9f1c

Secret query values are masked (`credentials.mask_query`). With LOG_FORMAT=json
the same fields are keys of the JSON line (`log_format.JsonFormatter`).
Probes (`/healthz`, `/metrics`) are logged at DEBUG, everything else at INFO.
"""

import logging
from typing import Any, Final

from .credentials import mask_query
from .observe import StreamRecord

logger = logging.getLogger(__name__)

PROBES: Final = frozenset({"/healthz", "/metrics"})


def fields(record: StreamRecord) -> dict[str, Any]:
    """The record as the log shows it."""
    ttfb = record.time_to_first_byte
    return {
        "client": record.client,
        "method": record.method,
        "path": record.path + (f"?{mask_query(record.query)}" if record.query else ""),
        "status": record.status,
        "outcome": record.outcome,
        "bytes": record.wire_bytes,
        "item": record.item or None,
        "items": record.items if record.item else None,
        "duration_s": round(record.duration, 6),
        "ttfb_s": None if ttfb is None else round(ttfb, 6),
        "request_id": record.request_id,
    }


def log_stream(record: StreamRecord) -> None:
    """Write the line for a finished response."""
    level = logging.DEBUG if record.path in PROBES else logging.INFO
    if not logger.isEnabledFor(level):
        return
    shown = fields(record)
    counted = f" {shown['items']} {shown['item']}s" if shown["item"] else ""
    ttfb = "" if shown["ttfb_s"] is None else f" ttfb {shown['ttfb_s']:.3f} s"
    logger.log(
        level,
        '%s "%s %s" %d %s %d B%s %.3f s%s id %s',
        shown["client"],
        shown["method"],
        shown["path"],
        shown["status"],
        shown["outcome"],
        shown["bytes"],
        counted,
        shown["duration_s"],
        ttfb,
        shown["request_id"],
        extra={"stream": shown},
    )
