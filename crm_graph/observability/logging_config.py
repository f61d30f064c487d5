"""One logging setup for every process of crm-graph: the app's loggers, uvicorn's and Dramatiq's.

`CRM_GRAPH_LOG_FORMAT=text` (the default) prints ``time level logger: message``; ``json`` prints one
JSON object per line with ``timestamp``, ``level``, ``logger``, ``message`` and, where known,
``request_id``, ``store_id`` and ``error_id`` (internal errors name theirs in the message), plus
``exception`` when a traceback is logged. uvicorn is given the same configuration (`uvicorn_config`),
so its access and error lines take the same shape; Dramatiq's loggers propagate to the root logger.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from datetime import datetime, timezone

from crm_graph.observability import context

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: How the app's internal-error lines name their id ("internal error <id>", "(error <id>)").
_ERROR_ID = re.compile(r"\b(?:internal error|error) ([0-9a-f]{12})\b")


class ContextFilter(logging.Filter):
    """Adds the request id and store id of the current context to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id.get()
        if not hasattr(record, "store_id"):
            record.store_id = context.store_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for field in ("request_id", "store_id"):
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        found = _ERROR_ID.search(message)
        if found:
            entry["error_id"] = found.group(1)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the request id appended when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def dict_config(log_format: str = "text", level: str = "INFO") -> dict:
    """The `logging.config.dictConfig` of a process: root, uvicorn and Dramatiq all on one handler."""
    level = level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO"
    formatter = "json" if log_format == "json" else "text"
    quiet = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {
            "text": {"()": TextFormatter},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                        "formatter": formatter, "filters": ["context"]},
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's loggers have handlers of their own unless told otherwise: send them to ours.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            "dramatiq": {"handlers": [], "level": level, "propagate": True},
            # Migration steps are reported by `crm-graph migrate` itself, not line by line.
            "alembic": quiet,
            "apscheduler": quiet,
        },
    }


def configure(log_format: str = "text", level: str = "INFO") -> dict:
    """Apply `dict_config` to this process and return it (uvicorn gets the same dict)."""
    config = dict_config(log_format, level)
    logging.config.dictConfig(config)
    return config


def announce(console, logger_name: str, line: str, log_format: str) -> None:
    """A command's status line (where it serves, what it starts): a log record in the JSON format, so
    that every line of a process is JSON, else one unwrapped console line a script can read."""
    if log_format == "json":
        logging.getLogger(logger_name).info(line)
    else:
        console.print(line, highlight=False, soft_wrap=True, markup=False)
