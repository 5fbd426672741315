"""Traces and metrics of the coordinator (spec/coordinator.md §11).

Instruments are created once from the global OpenTelemetry providers; exporting is configured by
``configure_telemetry`` from the standard ``OTEL_*`` variables. Code elsewhere only imports
``tracer`` and ``metrics`` from here.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import structlog
from opentelemetry import metrics as _otel_metrics
from opentelemetry import trace as _otel_trace

tracer = _otel_trace.get_tracer("angzarr")


class _Instruments:
    """Named instruments; created lazily so providers configured at start-up are used."""

    def __init__(self) -> None:
        self._made: dict[str, object] = {}

    def _get(self, name: str, kind: str, unit: str = "", description: str = ""):
        inst = self._made.get(name)
        if inst is None:
            meter = _otel_metrics.get_meter("angzarr")
            inst = getattr(meter, kind)(name, unit=unit, description=description)
            self._made[name] = inst
        return inst

    @property
    def command_duration(self):
        return self._get("angzarr.command.duration", "create_histogram", "ms", "HandleCommand latency")

    @property
    def command_total(self):
        return self._get("angzarr.command.total", "create_counter", "", "commands handled")

    @property
    def command_rebased(self):
        return self._get("angzarr.command.rebased", "create_counter", "", "commands re-decided on newer state")

    @property
    def command_conflicts(self):
        return self._get("angzarr.command.conflicts", "create_counter", "", "append races lost")

    @property
    def store_append_duration(self):
        return self._get("angzarr.store.append.duration", "create_histogram", "ms")

    @property
    def store_load_duration(self):
        return self._get("angzarr.store.load.duration", "create_histogram", "ms")

    @property
    def deadletter_total(self):
        return self._get("angzarr.deadletter.total", "create_counter")

    @property
    def saga_duration(self):
        return self._get("angzarr.saga.duration", "create_histogram", "ms")

    @property
    def pm_duration(self):
        return self._get("angzarr.pm.duration", "create_histogram", "ms")

    @property
    def projector_duration(self):
        return self._get("angzarr.projector.duration", "create_histogram", "ms")

    @property
    def log_gap_wait(self):
        return self._get("angzarr.log.gap_wait", "create_histogram", "ms")

    @property
    def subscriber_lag_events(self):
        return self._get("angzarr.subscriber.lag.events", "create_gauge", "", "log positions a subscriber is behind")

    @property
    def subscriber_lag_seconds(self):
        return self._get("angzarr.subscriber.lag.seconds", "create_gauge", "s", "age of the oldest undelivered commit")

    @property
    def outbox_pending(self):
        return self._get("angzarr.outbox.pending", "create_gauge", "", "outbox entries not yet settled")


metrics = _Instruments()


# -- configuration at process start (spec/coordinator.md §11) --------------------------------------------

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}
_FORMATS = ("json", "console")


class ObservabilityConfigError(ValueError):
    """A logging or telemetry variable has a value we cannot use; the message names it."""


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


def log_settings(environ: Mapping[str, str] | None = None, *, tty: bool = False) -> tuple[int, str]:
    """The (level number, format) the environment asks for.

    Level: ``ANGZARR_LOG_LEVEL``, else ``LOG_LEVEL``, else info. Format: ``ANGZARR_LOG_FORMAT``, else
    ``LOG_FORMAT`` (json/console), else console on a terminal and JSON otherwise. Raises
    ``ObservabilityConfigError`` for a value that is neither.
    """
    environ = os.environ if environ is None else environ
    level_var = _first(environ, "ANGZARR_LOG_LEVEL", "LOG_LEVEL")
    level = _LEVELS["info"]
    if level_var:
        name, value = level_var
        level = _LEVELS.get(value.lower(), -1)
        if level < 0:
            raise ObservabilityConfigError(
                f"{name}={value!r} is not a log level; use debug, info, warning, error or critical"
            )
    format_var = _first(environ, "ANGZARR_LOG_FORMAT", "LOG_FORMAT")
    fmt = "console" if tty else "json"
    if format_var:
        name, value = format_var
        if value.lower() not in _FORMATS:
            raise ObservabilityConfigError(f"{name}={value!r} is not a log format; use json or console")
        fmt = value.lower()
    return level, fmt


def configure_logging(environ: Mapping[str, str] | None = None, *, stream: TextIO | None = None) -> None:
    """Configure structlog (and stdlib logging through it) for this process.

    Lines go to ``stream`` (stdout by default) and carry the context variables bound with
    ``structlog.contextvars.bind_contextvars`` (``correlation_id``, ...). Raises
    ``ObservabilityConfigError`` for a bad level or format variable.
    """
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    level, fmt = log_settings(environ, tty=bool(isatty and isatty()))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer]
        if fmt == "json"
        else [*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries logging through stdlib (grpc, opentelemetry) end up in the same stream and format.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_angzarr", False):
            root.removeHandler(old)
    handler._angzarr = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _signal_endpoint(environ: Mapping[str, str], signal: str) -> str:
    """The per-signal endpoint, else the common one (read from ``environ``, not only ``os.environ``)."""
    specific = environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip()
    return specific or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()


@dataclass(slots=True)
class Telemetry:
    """The providers ``configure_telemetry`` installed (None: that signal is not exported)."""

    tracer_provider: Any = None
    meter_provider: Any = None

    @property
    def enabled(self) -> bool:
        return self.tracer_provider is not None or self.meter_provider is not None

    def shutdown(self) -> None:
        """Flush and stop exporting (process exit)."""
        for provider in (self.tracer_provider, self.meter_provider):
            if provider is not None:
                provider.shutdown()


def configure_telemetry(
    environ: Mapping[str, str] | None = None,
    *,
    span_exporters: Sequence[Any] = (),
    metric_readers: Sequence[Any] = (),
) -> Telemetry:
    """Install OpenTelemetry providers as the standard ``OTEL_*`` variables ask.

    Traces are exported over OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set (and ``OTEL_TRACES_EXPORTER`` is not ``none``);
    metrics likewise with ``..._METRICS_ENDPOINT`` / ``OTEL_METRICS_EXPORTER``. ``OTEL_SDK_DISABLED=true``
    turns everything off. ``service.name`` is ``OTEL_SERVICE_NAME``, default ``angzarr``. Extra
    ``span_exporters`` / ``metric_readers`` (e.g. the SDK's in-memory ones) are added to the same
    providers. Call once per process: the global providers cannot be replaced.
    """
    environ = os.environ if environ is None else environ
    if _truthy(environ.get("OTEL_SDK_DISABLED")):
        return Telemetry()
    common = bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())
    want_traces = (common or bool(environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip())) and (
        environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none"
    )
    want_metrics = (common or bool(environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "").strip())) and (
        environ.get("OTEL_METRICS_EXPORTER", "otlp").strip().lower() != "none"
    )
    if not (want_traces or want_metrics or span_exporters or metric_readers):
        return Telemetry()

    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME", "").strip() or "angzarr"})
    telemetry = Telemetry()
    if want_traces or span_exporters:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        tracer_provider = TracerProvider(resource=resource)
        if want_traces:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            endpoint = _signal_endpoint(environ, "TRACES")
            tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        for exporter in span_exporters:
            tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        _otel_trace.set_tracer_provider(tracer_provider)
        telemetry.tracer_provider = tracer_provider
    if want_metrics or metric_readers:
        from opentelemetry.sdk.metrics import MeterProvider

        readers = list(metric_readers)
        if want_metrics:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            endpoint = _signal_endpoint(environ, "METRICS")
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint)))
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        _otel_metrics.set_meter_provider(meter_provider)
        telemetry.meter_provider = meter_provider
    return telemetry
