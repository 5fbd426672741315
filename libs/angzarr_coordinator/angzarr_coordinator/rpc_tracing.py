"""A server span and a log context per RPC (spec/coordinator.md §11).

Installed on every listener the runtime opens. Each RPC gets a SERVER span parented by the caller's
``traceparent``, so the pipeline's spans (``aggregate.handle`` ...) join the caller's trace; and its
log lines carry the request's ``correlation_id`` and ``domain`` (bound as structlog context variables
for the duration of the call). A ``rpc`` line at debug level records method, outcome and
``duration_ms``. Health checks are neither traced nor logged: load balancers and the supervisor poll
them constantly and they would drown everything else.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import structlog
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from angzarr_coordinator.observability import tracer

log = structlog.get_logger("angzarr.rpc")

_UNTRACED_PREFIX = "/grpc.health.v1."
# Where requests keep their cover (CommandRequest.command, EventRequest.events, saga source, PM trigger).
_COVER_HOLDERS = ("command", "events", "source", "trigger")


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in details.invocation_metadata or ():
        if isinstance(value, str):
            out[key] = value
    return out


def _request_context(request: Any, metadata: dict[str, str]) -> dict[str, str]:
    """``correlation_id`` and ``domain`` of a request, as far as its shape tells."""
    found: dict[str, str] = {}
    cover = None
    for holder in _COVER_HOLDERS:
        inner = getattr(request, holder, None)
        if inner is not None and hasattr(inner, "cover"):
            cover = inner.cover
            break
    if cover is None and hasattr(request, "cover"):
        cover = request.cover
    if cover is not None:
        if cover.correlation_id:
            found["correlation_id"] = cover.correlation_id
        if cover.domain:
            found["domain"] = cover.domain
    if "correlation_id" not in found:
        from_filter = getattr(request, "correlation_id", "")
        correlation = from_filter if isinstance(from_filter, str) and from_filter else metadata.get("x-correlation-id")
        if correlation:
            found["correlation_id"] = correlation
    return found


def _status_code(grpc_context: Any, error: BaseException | None) -> grpc.StatusCode:
    code = grpc_context.code() if hasattr(grpc_context, "code") else None
    if code is None:
        return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN
    if isinstance(code, int):  # grpc.aio may report the numeric value
        return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)
    return code


class RpcTracing(grpc.aio.ServerInterceptor):
    """Wraps every non-health handler of a ``grpc.aio`` server (see the module docstring)."""

    async def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(_UNTRACED_PREFIX):
            return handler
        name = details.method.lstrip("/")
        service, _, method = name.partition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
        metadata = _metadata(details)

        @contextmanager
        def observed(request: Any, grpc_context: Any) -> Iterator[None]:
            fields = _request_context(request, metadata)
            started = time.monotonic()
            with structlog.contextvars.bound_contextvars(**fields), tracer.start_as_current_span(
                name, context=propagate.extract(metadata), kind=SpanKind.SERVER,
                attributes={**attributes, **{f"angzarr.{k}": v for k, v in fields.items()}},
                record_exception=False, set_status_on_exception=False,
            ) as span:
                error: BaseException | None = None
                try:
                    yield
                except BaseException as e:
                    error = e
                    raise
                finally:
                    code = _status_code(grpc_context, error)
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code != grpc.StatusCode.OK:
                        span.set_status(Status(StatusCode.ERROR, code.name))
                    log.debug("rpc", method=name, outcome=code.name,
                              duration_ms=round((time.monotonic() - started) * 1000, 3))

        def unary_response(behavior: Callable, streaming_request: bool) -> Callable:
            async def wrapped(request: Any, context: Any) -> Any:
                with observed(None if streaming_request else request, context):
                    return await behavior(request, context)

            return wrapped

        def stream_response(behavior: Callable, streaming_request: bool) -> Callable:
            async def wrapped(request: Any, context: Any) -> Any:
                with observed(None if streaming_request else request, context):
                    result = behavior(request, context)
                    if inspect.isasyncgen(result):
                        async for item in result:
                            yield item
                    else:
                        await result

            return wrapped

        types = (handler.request_deserializer, handler.response_serializer)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(unary_response(handler.unary_unary, False), *types)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(unary_response(handler.stream_unary, True), *types)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(stream_response(handler.unary_stream, False), *types)
        return grpc.stream_stream_rpc_method_handler(stream_response(handler.stream_stream, True), *types)
