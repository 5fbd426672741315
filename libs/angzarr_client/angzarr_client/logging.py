"""``configure_logging``: structured logs for handler services (structlog over stdlib logging).

Level: argument, else ``LOG_LEVEL``, else ``info``. Format: argument, else ``LOG_FORMAT``
(``json``/``console``), else JSON when stdout is not a TTY. Every line carries the context
variables bound by the servicers (``correlation_id``, ``domain``, ``component``), the level and a
UTC ISO timestamp. With ``opentelemetry-instrumentation-grpc`` installed, gRPC servers and
clients are instrumented; the ``OTEL_*`` variables control exporting.
"""

from __future__ import annotations

import logging as stdlib_logging
import os
import sys
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging"]

_LEVELS = {
    "critical": stdlib_logging.CRITICAL,
    "error": stdlib_logging.ERROR,
    "warning": stdlib_logging.WARNING,
    "warn": stdlib_logging.WARNING,
    "info": stdlib_logging.INFO,
    "debug": stdlib_logging.DEBUG,
}
_HANDLER_MARK = "_angzarr_client_handler"
_instrumented = False


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def _resolve_level(level: str | int | None) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    text = (
        (level if isinstance(level, str) and level.strip() else _env("LOG_LEVEL") or "info").strip().lower()
    )
    if text not in _LEVELS:
        raise ValueError(f"unknown log level {text!r}; use one of {sorted(_LEVELS)}")
    return _LEVELS[text]


def _resolve_json(json: bool | None, stream: TextIO) -> bool:
    if json is not None:
        return json
    fmt = _env("LOG_FORMAT")
    if fmt is not None:
        if fmt.lower() not in ("json", "console"):
            raise ValueError(f"LOG_FORMAT must be 'json' or 'console', got {fmt!r}")
        return fmt.lower() == "json"
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty())


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at write time (so redirection keeps working)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _instrument_grpc() -> None:
    global _instrumented
    if _instrumented:
        return
    _instrumented = True
    try:
        from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient, GrpcInstrumentorServer
    except ImportError:
        return
    GrpcInstrumentorServer().instrument()
    GrpcInstrumentorClient().instrument()


def configure_logging(level: str | int | None = None, *, json: bool | None = None) -> None:
    """Configure structlog and stdlib logging to write one line per event to stdout. Idempotent.

    Raises:
        ValueError: an unknown level or ``LOG_FORMAT``.
    """
    numeric = _resolve_level(level)
    as_json = _resolve_json(json, sys.stdout)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info if as_json else _keep_exc_info,
            renderer,
        ],
    )
    root = stdlib_logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = stdlib_logging.StreamHandler(_CurrentStdout())  # type: ignore[arg-type]
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(numeric)
    _instrument_grpc()


def _keep_exc_info(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    # The console renderer formats exc_info itself (readable tracebacks on a terminal).
    return event
