"""How the app's log lines look: plain text for development, one JSON object per line in production.

Nothing the app logs names a person: no e-mail addresses, no prompts, no pictures. As a last net,
both formats replace anything shaped like an e-mail address with "<address>".
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ADDRESS = re.compile(r"[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Attributes every LogRecord has; anything else on a record came from `extra=` and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}

runs_log = logging.getLogger("studio.runs")


def redact(text: str) -> str:
    return ADDRESS.sub("<address>", text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, the record's `extra` fields, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(line, default=str, ensure_ascii=False))


def make_handler(log_format: str = "text", stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send every logger's records (uvicorn's too) through one handler in the chosen format."""
    logging.basicConfig(level=level, handlers=[make_handler(log_format)], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def log_run(record: Any) -> None:
    """One line per finished run, with its facts as fields: no user, no prompt (a run observer)."""
    runs_log.info(
        "run %s %s %s in %d ms", record.run_id[:8], record.operation, record.status, record.duration_ms,
        extra={"run_id": record.run_id, "operation": record.operation, "status": record.status,
               "duration_ms": record.duration_ms, "weights": record.weights},
    )
