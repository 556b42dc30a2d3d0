"""Logging: ids and actions only. Bodies, names, codes and keys are never passed to a logger."""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from typing import Any

from portal.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class RedactingFormatter(logging.Formatter):
    """Tracebacks keep their frames but drop exception messages, which can quote values."""

    def formatException(self, ei: Any) -> str:  # noqa: N802  (logging's own name)
        exc_type, exc, tb = ei
        frames = "".join(traceback.format_tb(tb))
        chain = []
        cause = exc.__cause__ or exc.__context__ if exc is not None else None
        while cause is not None:
            chain.append(type(cause).__name__)
            cause = cause.__cause__ or cause.__context__
        caused_by = f" (after {', '.join(chain)})" if chain else ""
        name = exc_type.__name__ if exc_type else "Exception"
        return f"Traceback (message withheld):\n{frames}{name}{caused_by}"


def configure_logging(settings: Settings) -> None:
    settings.log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("portal")
    if getattr(root, "_portal_configured", None) == str(settings.log_file):
        return
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        settings.log_file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(RedactingFormatter(FORMAT))
    root.addHandler(file_handler)
    root.setLevel(logging.INFO)
    root._portal_configured = str(settings.log_file)  # type: ignore[attr-defined]  # marker


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging, on standard error: its tracebacks (an exception that escaped the
    application, a broken request) keep their frames but never the exception's message, which
    could quote a request body; the access log names methods, paths and statuses only."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "redacted": {"()": RedactingFormatter, "fmt": "%(levelname)s %(name)s %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelname)s access %(client_addr)s "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
        },
        "handlers": {
            "default": {
                "formatter": "redacted",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
