"""How the service's log lines look: text for people (the default), JSON lines for machines.

LOG_FORMAT=json writes one JSON object per line: time, level, logger and
message, and for a finished response the stream log's fields as keys of
their own. uvicorn's own lines (start-up, errors) keep uvicorn's format.
"""

import json
import logging
from typing import Final

TEXT: Final = "%(levelname)s:\t%(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        stream = getattr(record, "stream", None)
        if isinstance(stream, dict):
            line |= stream
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(package: str, level: str, log_format: str) -> None:
    """Send the package's records to stderr, in `log_format`, from `level` up."""
    logger = logging.getLogger(package)
    logger.setLevel(level.upper())
    # An app built before this one (tests build many) may have set a format already.
    for handler in list(logger.handlers):
        if isinstance(handler.formatter, JsonFormatter):
            logger.removeHandler(handler)
    if log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    else:
        logger.propagate = True
        logging.basicConfig(format=TEXT)
